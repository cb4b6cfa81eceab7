/* ALTCHA proof of work (v1, SHA-256), solved in the browser: find n with SHA-256(salt + n) == challenge.
   Served from our origin (CSP script-src 'self'); no third party is involved. The page still works
   without this script, but the booking service then refuses the booking at locations that require it. */
(function () {
  "use strict";
  var box = document.querySelector("[data-altcha]");
  if (!box || !window.crypto || !window.crypto.subtle) { return; }
  var input = document.getElementById(box.getAttribute("data-altcha-input"));
  var status = box.querySelector("[data-altcha-status]");
  var form = input && input.form;
  var challenge = JSON.parse(box.getAttribute("data-altcha"));
  var encoder = new TextEncoder();
  var solved = false, submitWhenSolved = false;

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  async function solve() {
    for (var n = 0; n <= challenge.maxNumber; n++) {
      var digest = await window.crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n));
      if (hex(digest) === challenge.challenge) { return n; }
    }
    return null;
  }

  status.textContent = {{ _("Sicherheitsprüfung läuft …") | tojson }};
  solve().then(function (number) {
    if (number === null) {
      status.textContent = {{ _("Die Sicherheitsprüfung ist fehlgeschlagen. Bitte laden Sie die Seite neu.") | tojson }};
      return;
    }
    input.value = btoa(JSON.stringify({
      algorithm: challenge.algorithm, challenge: challenge.challenge, number: number,
      salt: challenge.salt, signature: challenge.signature
    }));
    solved = true;
    status.textContent = {{ _("Sicherheitsprüfung abgeschlossen.") | tojson }};
    if (submitWhenSolved) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
  });

  if (form) {
    form.addEventListener("submit", function (event) {
      if (!solved) {
        event.preventDefault();
        submitWhenSolved = true;
        status.textContent = {{ _("Einen Moment bitte, die Sicherheitsprüfung läuft noch …") | tojson }};
      }
    });
  }
}());

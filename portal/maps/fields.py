"""GeoJSONField: a place (point) or an area (polygon) for a Flask-WTF form, rendered by macros/map.html.

With JavaScript the person pins a point or draws a polygon on the map, which writes GeoJSON into the field's
hidden input. Without JavaScript, and as the accessible alternative with it, they type street and house number
(geocoded here against the city's street list) or coordinates. After validation `field.data` is a checked
`Geometry` (or None when nothing was given and the field is optional), `field.source` says where it came from
("map", "coordinates", "address", or "stored" for the value the form was built with) and `field.geocoded`
holds the GeocodeResult when an address was used.

    class PlaceForm(FlaskForm):
        street = StringField(_l("Straße und Hausnummer"))
        area = GeoJSONField(_l("Fläche"), geometry="polygon", address_field="street",
                            validators=[DataRequired(_l("Bitte geben Sie an, wo."))])
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation
from wtforms.widgets import HiddenInput

from portal.maps import settings as map_settings
from portal.maps.geocoding import GeocodeResult, GeocodingError, locate
from portal.maps.geojson import POINT, POLYGON, GeoJSONError, Geometry, parse_coordinates, parse_geometry
from portal.maps.normalise import clean

GEOMETRIES = ("point", "polygon")
# A stored value may come from before MAP_BOUNDS or MAP_MAX_VERTICES changed: read it back, do not refuse it.
STORED_MAX_VERTICES = 10_000


class GeoJSONField(Field):
    """A place on the map: GeoJSON from the map, else typed coordinates, else street and house number."""

    widget = HiddenInput()

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        geometry: str = "point",
        address_field: str | None = None,
        polygon_required: bool = False,
        coordinates: bool = True,
        **kwargs: Any,
    ) -> None:
        """`geometry`: what the map lets people make ("point" or "polygon"). `address_field`: the name of another
        field of the form holding street and house number (then the macro renders no address input of its own).
        `polygon_required`: refuse a point where an area is asked for (the text alternatives give a point only,
        so leave it off unless the service has another way for people who cannot draw)."""
        super().__init__(label, validators, **kwargs)
        if geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {GEOMETRIES}")
        self.geometry = geometry
        self.address_field = address_field
        self.polygon_required = polygon_required
        self.offer_coordinates = coordinates
        self.raw_geojson = ""
        self.address_text = ""
        self.address_choice = ""
        self.coordinates_text = ""
        self.no_javascript = False
        self.source: str | None = None
        self.geocoded: GeocodeResult | None = None
        self.candidates: list[GeocodeResult] = []

    # Names of the companion inputs the macro renders next to the hidden GeoJSON input.
    @property
    def address_name(self) -> str:
        return f"{self.name}-address"

    @property
    def choice_name(self) -> str:
        return f"{self.name}-choice"

    @property
    def coordinates_name(self) -> str:
        return f"{self.name}-coordinates"

    @property
    def nojs_name(self) -> str:
        return f"{self.name}-nojs"

    @property
    def offer_address(self) -> bool:
        return self.address_field is None

    @property
    def address_input_id(self) -> str:
        """The id of the street input map.js searches from: ours, or the service's own field's (its default id)."""
        if self.address_field:
            return self._prefix + self.address_field
        return f"{self.id}-address"

    @property
    def _prefix(self) -> str:
        return self.name[: len(self.name) - len(self.short_name)]

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        super().process(formdata, data, extra_filters)
        if formdata is None:
            return
        self.address_text = clean(formdata.get(self.address_name, ""))
        self.address_choice = clean(formdata.get(self.choice_name, ""))
        self.coordinates_text = clean(formdata.get(self.coordinates_name, ""), 100)
        self.no_javascript = bool(formdata.get(self.nojs_name))
        external = ""
        if self.address_field:
            external = clean(formdata.get(self._prefix + self.address_field, ""))
        # What Optional/InputRequired look at: did the person give anything at all?
        given = [self.raw_geojson, self.coordinates_text, self.address_choice, self.address_text, external]
        self.raw_data = [value for value in given if value][:1]

    def process_data(self, value: Any) -> None:
        self.data, self.source, self.raw_geojson = None, None, ""
        if value is None or value == "":
            return
        try:
            geometry = (
                value
                if isinstance(value, Geometry)
                else parse_geometry(value, types=(POINT, POLYGON), max_vertices=STORED_MAX_VERTICES)
            )
        except GeoJSONError:
            return  # an unreadable stored value is shown as no value; the service still has its text
        self.data, self.source, self.raw_geojson = geometry, "stored", geometry.to_json()

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw_geojson = str(valuelist[0]).strip() if valuelist else ""

    def _value(self) -> str:
        return self.raw_geojson

    def pre_validate(self, form: Any) -> None:
        self.geocoded, self.candidates = None, []
        external = None
        if self.address_field:
            other = form._fields.get(self.address_field)
            external = clean(str(other.data or "")) if other is not None else ""
        address = self.address_choice or (external if external is not None else self.address_text)
        if self.no_javascript:
            # Typed text is what a person without JavaScript changed; the hidden GeoJSON only carries an old
            # value back. A service's own address field is always filled, so it comes last.
            own_text = external is None or bool(self.address_choice)
            order = ["coordinates", "address", "map"] if own_text else ["coordinates", "map", "address"]
        else:
            order = ["map", "coordinates", "address"]
        values = {"map": self.raw_geojson, "coordinates": self.coordinates_text, "address": address}
        self.data, self.source = None, None
        for source in order:
            if values[source]:
                self.data = self._resolve(source, values[source])
                self.source = source
                break
        if self.data is not None and self.polygon_required and self.data.type != POLYGON:
            raise StopValidation(_("Bitte zeichnen Sie die Fläche in die Karte ein."))

    def _resolve(self, source: str, value: str) -> Geometry:
        settings = map_settings.current()
        try:
            if source == "map":
                types = (POINT,) if self.geometry == "point" else (POLYGON, POINT)
                return parse_geometry(value, types=types, bounds=settings.bounds, max_vertices=settings.max_vertices)
            if source == "coordinates":
                return parse_coordinates(value, settings.bounds)
            found = locate(value)
        except GeoJSONError as error:
            raise StopValidation(error.message) from None
        except GeocodingError as error:
            self.candidates = error.candidates
            raise StopValidation(error.message) from None
        self.geocoded = found
        return found.geometry

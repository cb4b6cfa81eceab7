"""The rules of the permit service: one public function per use case, the acting user first."""

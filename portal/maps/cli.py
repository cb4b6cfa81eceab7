"""`flask maps ...`: the city's street list for offline geocoding (import, list, export), and a geocoding check."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.actors import SYSTEM

maps_cli = AppGroup("maps", help="Maps: the city's street list and offline geocoding.")


@maps_cli.command("import-streets")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--remove-missing", is_flag=True, help="Delete streets whose key is not in the file (the file is the full list)."
)
def import_streets_command(path: Path, remove_missing: bool) -> None:
    """Import or update streets from a .csv or .geojson file; running it twice changes nothing."""
    from portal.maps.streets import StreetImportError, import_streets, read_street_file

    try:
        rows = read_street_file(path.name, path.read_bytes())
    except StreetImportError as error:
        for message in error.errors[:50]:
            click.echo(message, err=True)
        if len(error.errors) > 50:
            click.echo(f"... and {len(error.errors) - 50} more", err=True)
        raise click.ClickException(f"{path.name}: nothing imported ({len(error.errors)} problem(s)).") from None
    summary = import_streets(SYSTEM, rows, source=path.name, remove_missing=remove_missing)
    click.echo(
        f"{path.name}: {summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged, "
        f"{summary.removed} removed."
    )


@maps_cli.command("streets")
@click.option("--search", default=None, help="Only streets whose name contains this.")
@click.option(
    "--geojson", "as_geojson", is_flag=True, help="Write a GeoJSON FeatureCollection (import-streets reads it)."
)
def streets_command(search: str | None, as_geojson: bool) -> None:
    """List the street list: key, name, postcode, district, house numbers, position."""
    from portal.maps.streets import list_streets, streets_geojson

    streets = list_streets(search)
    if as_geojson:
        click.echo(json.dumps(streets_geojson(streets), ensure_ascii=False, indent=1))
        return
    if not streets:
        click.echo("No streets.")
        return
    for street in streets:
        numbers = f"{street.number_from}-{street.number_to}" if street.number_from is not None else "-"
        click.echo(
            f"{street.code}\t{street.name}\t{street.postcode}\t{street.district or '-'}\t{numbers}\t"
            f"{street.latitude:.6f},{street.longitude:.6f}\t{'line' if street.line else 'point'}"
        )
    click.echo(f"{len(streets)} street(s).")


@maps_cli.command("geocode")
@click.argument("address")
def geocode_command(address: str) -> None:
    """Show what the offline geocoder makes of an address (for checking the street list)."""
    from portal.maps.geocoding import geocode

    results = geocode(address)
    if not results:
        click.echo("Not found.")
        return
    for result in results:
        click.echo(f"{result.label}\t{result.lat:.6f},{result.lon:.6f}\t{result.precision}\t{result.match}")

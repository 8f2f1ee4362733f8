from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.demo.corpus import DEFAULT_SEED, PAGES_PER_WITNESS
from webapp.demo.seed import DEMO_PASSWORD, seed_demo

demo_cli = AppGroup("demo", help="The demo corpus.")


@demo_cli.command("seed")
@click.option(
    "--seed",
    default=DEFAULT_SEED,
    show_default=True,
    type=int,
    help="Another seed makes another corpus, beside the default one.",
)
@click.option(
    "--pages-per-witness",
    default=PAGES_PER_WITNESS,
    show_default=True,
    type=click.IntRange(1, 200),
    help="Fewer pages make a quicker corpus to try things on.",
)
def seed_command(seed: int, pages_per_witness: int) -> None:
    """Create the demo corpus, its ground truth and a demo account; running it again changes
    nothing."""
    report = seed_demo(seed, pages_per_witness)
    click.echo(
        f"Demo corpus (seed {seed}): {report.witnesses} witnesses, {report.pages} pages "
        f"({report.created_pages} new)."
    )
    click.echo(f"Ground truth: {report.ground_truth}")
    click.echo(f"Demo account: {report.user.email} / password {DEMO_PASSWORD}")
    click.echo(f"Demo document set: “{report.document_set.title}” (id {report.document_set.id})")

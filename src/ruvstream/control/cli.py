"""``ruvstream control``: run a control-plane member, or print the cluster's status."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import click

from .names import ControlNames
from .placement import PLACEMENTS
from .swarm.policy import METRICS, RegionBounds, ThresholdConfig
from .tasks import KINDS

__all__ = ["control"]

NATS_DEFAULT = "nats://127.0.0.1:4222"


def parse_region(text: str) -> tuple[str, RegionBounds]:
    """``REGION=MIN:MAX`` (or ``REGION=N`` for a fixed count)."""
    region, sep, bounds = text.partition("=")
    low, _, high = bounds.partition(":")
    try:
        parsed = RegionBounds(int(low), int(high or low))
    except ValueError as exc:
        raise click.BadParameter(f"expected REGION=MIN:MAX, got {text!r}") from exc
    if not sep or not region:
        raise click.BadParameter(f"expected REGION=MIN:MAX, got {text!r}")
    return region, parsed


def _read_key(path: Path | None) -> str | None:
    return path.read_text().strip() if path is not None else None


def _actuator(options: dict[str, Any], nats_url: str, namespace: str) -> Any:
    kind = options["actuator"]
    if kind == "memory":
        from .swarm import MemoryActuator

        return MemoryActuator()
    if kind == "local":
        from .swarm import LocalActuator

        return LocalActuator(
            Path(options["work_dir"]),
            node_args=list(options["node_args"]),
            peer_key=_read_key(options.get("peer_key_file")),
            control_nats_url=nats_url,
            namespace=namespace,
        )
    if kind == "kubernetes":
        try:
            from .swarm.kubernetes import KubernetesActuator
        except ImportError as exc:  # pragma: no cover - the extra is missing
            raise click.UsageError(
                "the kubernetes actuator needs: pip install 'ruvstream[kubernetes]'"
            ) from exc
        return KubernetesActuator.from_kubeconfig(
            namespace=options["k8s_namespace"],
            mode=options["k8s_mode"],
            name_format=options["k8s_name_format"],
        )
    return None


async def _run_member(options: dict[str, Any]) -> None:
    from .member import ControlMember, MemberSettings
    from .queue.jetstream import JetStreamWorkQueue
    from .store.jetstream import NatsBackend

    names = ControlNames(options["namespace"])
    regions = dict(parse_region(r) for r in options["regions"])
    scaling = None
    if options["autoscale"] and options["scale_up"] is not None:
        raise click.UsageError("--autoscale and --scale-up are two scalers: choose one")
    if options["autoscale"] and (not regions or options["actuator"] == "none"):
        raise click.UsageError("--autoscale needs --region and an --actuator")
    if options["scale_up"] is not None:
        scaling = ThresholdConfig(
            metric=options["scale_metric"],
            scale_up=options["scale_up"],
            scale_down=options["scale_down"],
            up_cooldown=options["up_cooldown"],
            down_cooldown=options["down_cooldown"],
        )
    settings = MemberSettings(
        namespace=names.namespace,
        lease=options["lease"],
        tick=options["tick"],
        strategy=options["strategy"],
        lapse=options["lapse"],
        regions=regions,
        scaling=scaling,
        retire_grace=options["retire_grace"],
        **({"member_id": options["member_id"]} if options["member_id"] else {}),
    )
    backend = await NatsBackend.connect(options["nats_url"], replicas=options["replicas"])
    queue = await JetStreamWorkQueue.open(
        backend.client,
        names.queue_stream,
        names.dead_stream,
        names.subject_root,
        replicas=options["replicas"],
    )
    spec, port = None, None
    if options["autoscale"]:
        from .autoscale_cli import autoscale_spec

        spec, port = autoscale_spec(options, regions)
    member = ControlMember(
        settings,
        backend,
        queue,
        actuator=_actuator(options, options["nats_url"], names.namespace),
        autoscale=spec,
    )
    await member.open()
    log = logging.getLogger("ruvstream.control")
    log.warning("control member %s campaigning in %s", settings.member_id, names.namespace)
    running = asyncio.current_task()
    assert running is not None
    loop = asyncio.get_running_loop()
    for sig in (
        signal.SIGTERM,
        signal.SIGINT,
    ):  # stop cleanly: resign, so a successor need not wait
        loop.add_signal_handler(sig, running.cancel)
    try:
        await member.run_forever()
    except asyncio.CancelledError:
        log.warning("control member %s stopping", settings.member_id)
    finally:
        await member.close()
        if port is not None:
            await port.aclose()


@click.group("control", invoke_without_command=True)
@click.option("--nats-url", default=NATS_DEFAULT, show_default=True)
@click.option("--namespace", default="ruvstream", show_default=True)
@click.option("--member-id", default=None, help="Defaults to control-host-pid.")
@click.option(
    "--replicas",
    type=int,
    default=1,
    show_default=True,
    help="Raft replicas of the buckets and streams it creates (3 on a JetStream cluster).",
)
@click.option("--lease", type=float, default=5.0, show_default=True, help="Leader lease (s).")
@click.option("--tick", type=float, default=0.5, show_default=True, help="Task loop period (s).")
@click.option("--strategy", type=click.Choice(sorted(PLACEMENTS)), default="round-robin")
@click.option(
    "--lapse", type=float, default=10.0, show_default=True, help="Nodes' --control-lapse."
)
@click.option(
    "--region", "regions", multiple=True, help="REGION=MIN:MAX the swarm keeps, repeatable."
)
@click.option(
    "--actuator",
    type=click.Choice(["none", "memory", "local", "kubernetes"]),
    default="none",
    show_default=True,
)
@click.option("--work-dir", default="./ruvstream-swarm", show_default=True, help="Local actuator.")
@click.option("--node-arg", "node_args", multiple=True, help="Extra `serve` flag for local nodes.")
@click.option(
    "--peer-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Local actuator: an admin key of keyed nodes, for a new node's snapshot bootstrap.",
)
@click.option("--scale-metric", type=click.Choice(METRICS), default="qps", show_default=True)
@click.option("--scale-up", type=float, default=None, help="Mean load per node to add one.")
@click.option("--scale-down", type=float, default=0.0, show_default=True)
@click.option("--up-cooldown", type=float, default=30.0, show_default=True)
@click.option("--down-cooldown", type=float, default=60.0, show_default=True)
@click.option("--retire-grace", type=float, default=2.0, show_default=True)
@click.option("--k8s-namespace", default="default", show_default=True)
@click.option("--k8s-mode", type=click.Choice(["deployment", "knative"]), default="deployment")
@click.option("--k8s-name-format", default="ruvstream-{region}", show_default=True)
@click.option(
    "--autoscale",
    is_flag=True,
    help="The leader runs the burst-scaling orchestrator (instead of --scale-up).",
)
@click.option(
    "--scaling-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSON scaling config (docs/scaling.md); --region bounds are the instance limits.",
)
@click.option(
    "--calendar",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="EVENTS.json: the event calendar the predictor pre-warms for.",
)
@click.option("--router-url", default=None, help="Router whose degradation level the leader sets.")
@click.option("--router-api-key", default=None, help="Admin key for the router's admin API.")
@click.option("--dry-run", is_flag=True, help="Print each round's plan; set nothing.")
@click.option(
    "--metrics-port", type=int, default=None, help="Serve the scaling metrics on 127.0.0.1."
)
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def control(ctx: click.Context, /, **options: Any) -> None:
    """Run a control-plane member: it campaigns for leadership; the leader runs the loops."""
    if ctx.invoked_subcommand is not None:
        return
    logging.basicConfig(
        level=str(options["log_level"]).upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_member(options))


@control.command("status")
@click.option("--nats-url", default=NATS_DEFAULT, show_default=True)
@click.option("--namespace", default="ruvstream", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(nats_url: str, namespace: str, as_json: bool) -> None:
    """Leader, nodes and tasks of a control plane, read from its registry."""
    from .status import read_status, render_status

    found = asyncio.run(read_status(nats_url, namespace))
    click.echo(json.dumps(found, indent=2, sort_keys=True) if as_json else render_status(found))


async def _submit(nats_url: str, namespace: str, task: Any) -> str:
    from .coordinator import submit as submit_task
    from .queue.jetstream import JetStreamWorkQueue
    from .store.jetstream import connect_nats

    names = ControlNames(namespace)
    client = await connect_nats(nats_url)
    try:
        queue = await JetStreamWorkQueue.open(
            client, names.queue_stream, names.dead_stream, names.subject_root
        )
        return await submit_task(queue, task)
    finally:
        await client.drain()


@control.command("submit")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--nats-url", default=NATS_DEFAULT, show_default=True)
@click.option("--namespace", default="ruvstream", show_default=True)
@click.option("--payload", default="{}", help="JSON object handed to the task's executor.")
@click.option("--region", default=None, help="Only a node of this region may run it.")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher runs first.")
@click.option("--timeout", type=float, default=30.0, show_default=True)
@click.option("--max-attempts", type=int, default=3, show_default=True)
def submit(
    kind: str,
    nats_url: str,
    namespace: str,
    payload: str,
    region: str | None,
    priority: int,
    timeout: float,
    max_attempts: int,
) -> None:
    """Queue a control task (snapshot, compaction, bootstrap, resync, drain); prints its id."""
    from .tasks import new_task

    try:
        body = json.loads(payload)
        task = new_task(
            kind,
            body,
            priority=priority,
            region=region,
            timeout=timeout,
            max_attempts=max_attempts,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(asyncio.run(_submit(nats_url, namespace, task)))


@control.command("decisions")
@click.option("--nats-url", default=NATS_DEFAULT, show_default=True)
@click.option("--namespace", default="ruvstream", show_default=True)
@click.option("--region", default=None, help="Only this region's decisions.")
@click.option("--changed", is_flag=True, help="Only decisions that changed the count.")
@click.option("--limit", type=int, default=50, show_default=True, help="The newest N.")
@click.option("--json", "as_json", is_flag=True, help="Print the decisions as JSON.")
def decisions(
    nats_url: str, namespace: str, region: str | None, changed: bool, limit: int, as_json: bool
) -> None:
    """The leader's recent scaling decisions and their reasons, read from the scaling bucket."""
    from .autoscale_cli import read_decisions, render_decisions

    found = asyncio.run(
        read_decisions(nats_url, namespace, region=region, changed_only=changed, limit=limit)
    )
    click.echo(json.dumps(found, indent=2) if as_json else render_decisions(found))

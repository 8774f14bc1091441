"""Evaluate a policy in closed loop on a fixed episode set and write its results.

    python evaluation/run.py --policy expert --env arena [--split test] [--episodes N] [--video] [--viz viser]
    python evaluation/run.py --policy expert --env arena --workers 2      # the set sharded over 2 simulations
    python evaluation/run.py --replay results/arena/expert --episode 3 [--viz viser]   # step through it

Writes episodes.csv, summary.json, results.md and plots to --out (default results/<env>/<policy>).
Ctrl-C writes the partial results collected so far.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from envs.registry import ENVS, EnvConfigError, env_spec, eval_layout, launch
from envs.scenes import TRAVERSALS
from envs.viz import VIZ_CHOICES, VizUnavailable, apply_viz
from episodes.sets import GRADED, SPLITS, EpisodeSetError, episode_tags, load_episode_set
from evaluation.oracles import GRAPH_ORACLES, ORACLES, oracle_variant
from evaluation.report import read_episodes_csv, write_report, write_video
from rollouts.metrics import steps_ratio, summarize, summarize_groups
from rollouts.workers import WorkerError
from storage import (
    DamagedFile,
    FolderInUse,
    FolderLock,
    clean_debris,
    data_dir,
    read_json,
    repo_root,
    results_dir,
)
from tools.cli import (
    PROFILES,
    add_env_args,
    add_worker_args,
    check_counts,
    check_env,
    env_cfg_from_args,
    fail,
    make_parser,
    parse,
    refuse_flags,
    uses_workers,
)
from tools.registry import (
    KINDS,
    POLICY_KINDS,
    MissingCheckpointError,
    check_policy,
    make_policy,
    resolve_checkpoint,
    train_command,
)
from training.checkpoint import CheckpointError


class ReplayError(ValueError):
    """A results folder or episode that cannot be replayed."""


def expert_comparison(out_dir: Path, summary: dict, records: list) -> dict:
    """steps_ratio_vs_expert from the expert's results on the same episode set, when they exist."""
    expert_dir = out_dir.parent / "expert"
    if summary["policy"] == "expert" or not (expert_dir / "summary.json").exists():
        return {}
    try:
        expert_summary = read_json(expert_dir / "summary.json")
        if (expert_summary.get("layout"), expert_summary.get("split")) != (
            summary["layout"],
            summary["split"],
        ):
            return {}
        ratio, pairs = steps_ratio(records, read_episodes_csv(expert_dir / "episodes.csv"))
    except (DamagedFile, OSError, ValueError, KeyError) as err:
        print(f"no steps ratio against the expert: its results in {expert_dir} are damaged ({err})")
        return {}
    return {"steps_ratio_vs_expert": ratio, "steps_ratio_pairs": pairs}


def variant_name(variant: str | None, args) -> str | None:
    """The results rows' variant: the model's, then the graph's traversal and the oracle, if any."""
    parts = [variant] if variant else []
    if args.graph:
        parts.append(f"graph ({args.traversal or 'route'} traversal)")
    if args.scan:
        parts.append("scan first")
    if args.oracle:
        parts.append(oracle_variant(args.oracle))
    return " + ".join(parts) or None


def env_cfg_with_viz(parser, args, cameras: bool):
    """The env cfg from the flags, with the --viz viewer; bad input ends in a one-line error."""
    cfg = env_cfg_from_args(parser, args, cameras=cameras)
    try:
        apply_viz(cfg, args.viz, args.viz_host, args.viz_port)
    except (ValueError, VizUnavailable) as err:
        parser.error(str(err))
    return cfg


def recorded_episode(results: Path, episode_id: int) -> tuple[dict, object, np.ndarray]:
    """(summary, the episode from its fixed set, the recorded (T, 3) poses) of a results folder."""
    for name in ("summary.json", "trajectories.npz"):
        if not (results / name).exists():
            raise ReplayError(
                f"{results} holds no evaluation results to replay ({results / name} is missing)"
            )
    try:
        summary = read_json(results / "summary.json")
        env, layout, split = summary["env"], summary["layout"], summary["split"]
    except (DamagedFile, KeyError) as err:
        raise ReplayError(f"{results / 'summary.json'} is damaged ({err}); evaluate again") from None
    try:
        poses = np.load(results / "trajectories.npz")
    except (ValueError, OSError) as err:
        raise ReplayError(f"{results / 'trajectories.npz'} is damaged ({err}); evaluate again") from None
    key = f"episode_{episode_id}"
    if key not in poses:
        recorded = sorted(int(k.split("_")[1]) for k in poses.files)
        raise ReplayError(f"episode {episode_id} was not recorded in {results}; recorded: "
                          f"{recorded[0]}..{recorded[-1]} ({len(recorded)} episodes)")  # fmt: skip
    episodes = load_episode_set(env, layout, split)
    return summary, episodes[episode_id], poses[key]


def replay_main(parser, args) -> int:
    """--replay DIR --episode N: the recorded poses, rendered again, written as a video; with --viz viser,
    then served in the replay viewer (evaluation/viewer.py) to step through; other viewers watch live."""
    from rollouts.replay import replay

    try:
        summary, episode, poses = recorded_episode(args.replay, args.episode)
    except (ReplayError, EpisodeSetError) as err:
        parser.error(str(err))
    args.env, args.layout, args.num_envs = summary["env"], summary["layout"], 1
    stepper = args.viz == "viser"  # our own viewer after the replay, not Isaac Lab's live one during it
    if stepper:
        from envs.viz import check_available

        try:
            check_available("viser")
        except VizUnavailable as err:
            parser.error(str(err))
        args.viz = "none"
    cfg = env_cfg_with_viz(parser, args, cameras=True)
    with launch(args.env, cfg) as env:
        frames = replay(env, episode, poses, args.episode)
    out = write_video(args.out or args.replay / f"replay_episode_{args.episode}.gif", frames)
    print(f"replayed episode {args.episode} ({len(poses)} poses) of {args.replay}; wrote {out}")
    if stepper:
        from evaluation.viewer import serve_replay

        csv_path = args.replay / "episodes.csv"
        records = read_episodes_csv(csv_path) if csv_path.exists() else []
        record = next((vars(r) for r in records if r.episode_id == args.episode), None)
        summary = {**summary, "success_radius": getattr(cfg, "success_radius", None)}
        viewer = serve_replay(
            frames, poses, summary, episode, args.episode, record, args.viz_host, args.viz_port
        )
        viewer.serve_forever()
    return 0


def build_parser():
    parser = make_parser(__doc__)
    parser.add_argument("--policy", choices=POLICY_KINDS, default=None)
    add_env_args(parser, num_envs=16)
    add_worker_args(parser)
    parser.add_argument("--checkpoint", type=Path, default=None, help="checkpoint file or run folder")
    parser.add_argument("--split", choices=[*SPLITS, *GRADED], default="test",
                        help="the fixed episode set; *_graded: the scenes' sets binned by distance (default: test)")  # fmt: skip
    parser.add_argument(
        "--episodes", type=int, default=None, help="evaluate only the first N episodes of the set"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="results folder (default: results/<env>/<policy>)"
    )
    parser.add_argument(
        "--video", action="store_true", help="record env 0's first episodes (camera | goal | map)"
    )
    parser.add_argument("--video-format", choices=("gif", "mp4"), default="gif", help="file type of --video")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument(
        "--train-missing", action="store_true", help="train the policy first if its checkpoint is missing"
    )
    parser.add_argument(
        "--profile", choices=PROFILES, default="quick", help="training scale for --train-missing"
    )
    parser.add_argument(
        "--encoder-weights", type=Path, default=None, help="local open_clip model folder (SigLIP-BC)"
    )
    parser.add_argument("--viz", choices=VIZ_CHOICES, default="none",
                        help="live viewer during the rollouts; with --replay, viser opens the replay viewer")  # fmt: skip
    parser.add_argument("--viz-host", default="127.0.0.1",
                        help="address viser/rerun serve on (0.0.0.0 opens them to the network)")  # fmt: skip
    parser.add_argument("--viz-port", type=int, default=None, help="viser/rerun web port (default 8080/9090)")
    parser.add_argument("--graph", action="store_true",
                        help="PIG-Nav / late fusion in the scenes: navigate through a topological graph of a prior "
                             "traversal of each episode's layout (built once into data/<env>/graphs_<split>_<traversal>/)")  # fmt: skip
    parser.add_argument("--traversal", choices=TRAVERSALS, default=None,
                        help="with --graph: the prior traversal, start to goal (route, default) or by way of random "
                             "places (random, harder)")  # fmt: skip
    parser.add_argument("--scan", action="store_true",
                        help="PIG-Nav / late fusion in the scenes: turn a full circle first and face the view the "
                             "distance head judges nearest the goal (policies/pignav/scan.py)")  # fmt: skip
    parser.add_argument("--oracle", choices=ORACLES, default=None,
                        help="privileged diagnostic (its rows say oracle): pose = the graph localised by true poses; "
                             "planner = the planner drives to the learned localisation's node; face = turn to the "
                             "path first (evaluation/oracles.py)")  # fmt: skip
    parser.add_argument("--replay", type=Path, default=None, metavar="RESULTS_DIR",
                        help="replay a recorded episode of a results folder")  # fmt: skip
    parser.add_argument("--episode", type=int, default=0, help="the episode id to --replay")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse(parser, argv)
    if args.replay is not None:
        refuse_flags(parser, args, ["policy", "checkpoint", "layout", "num_envs", "split", "episodes", "workers",
                                    "ray_address", "video", "train_missing", "encoder_weights", "graph", "traversal", "oracle", "scan"],
                     "does not apply to --replay: it replays what the results folder recorded")  # fmt: skip
        return replay_main(parser, args)
    if args.policy is None:
        parser.error("--policy is required (or --replay RESULTS_DIR)")
    refuse_flags(parser, args, ["episode"], "is for --replay")
    refuse_flags(parser, args, ["video_format"], "is for --video")
    if args.policy != "siglip_bc":
        refuse_flags(
            parser, args, ["encoder_weights"], f"is SigLIP-BC's (--policy siglip_bc), not {args.policy}'s"
        )
    if not KINDS[args.policy].needs_checkpoint:
        refuse_flags(parser, args, ["checkpoint", "train_missing"],
                     f"does not apply to --policy {args.policy}: it has no checkpoint")  # fmt: skip
    if not args.train_missing:
        refuse_flags(parser, args, ["profile"], "is the training scale of --train-missing")
    check_env(parser, args.env)
    check_counts(parser, args, "episodes", "num_envs")
    try:
        args.layout = eval_layout(args.env, args.split, args.layout)
        episodes = load_episode_set(args.env, args.layout, args.split)[: args.episodes]
    except (EnvConfigError, EpisodeSetError) as err:
        parser.error(str(err))
    # the graph, the oracles and the scan are for the image-goal models in the scenes
    scene_navigator = KINDS[args.policy].graph and env_spec(args.env).eval_layout is None
    if args.graph and not scene_navigator:
        graphs = " or ".join(k for k in POLICY_KINDS if KINDS[k].graph)
        scenes = ", ".join(e for e in ENVS if env_spec(e).eval_layout is None)
        parser.error(f"--graph is for --policy {graphs} in the image-goal scenes ({scenes})")
    if not args.graph:
        refuse_flags(parser, args, ["traversal"], "is the graph's prior traversal (--graph)")
    if args.oracle in GRAPH_ORACLES and not args.graph:
        parser.error(f"--oracle {args.oracle} changes the graph navigator: add --graph")
    if args.oracle and not scene_navigator:
        parser.error("--oracle is for PIG-Nav / late fusion in the image-goal scenes")
    if args.scan and not scene_navigator:
        parser.error("--scan is for PIG-Nav / late fusion in the image-goal scenes")
    if args.scan and (args.graph or args.oracle):
        parser.error(
            "--scan finds the goal image without a graph or an oracle: leave out --graph and --oracle"
        )
    if uses_workers(args) and (args.graph or args.oracle or args.scan or args.viz != "none"):
        parser.error("--graph, --oracle, --scan and --viz run in this process's simulation; leave out "
                     "--workers / --ray-address")  # fmt: skip
    cfg = env_cfg_with_viz(parser, args, cameras=KINDS[args.policy].cameras or args.video)
    try:
        checkpoint = resolve_checkpoint(args.policy, args.env, args.checkpoint)
    except MissingCheckpointError as err:
        if not args.train_missing:
            parser.error(f"{err}")
        command = [sys.executable, str(repo_root() / train_command(args.policy, args.env)[1]),
                   *train_command(args.policy, args.env)[2:], "--profile", args.profile]  # fmt: skip
        print(f"training the missing {args.policy}: {' '.join(command)}")
        subprocess.run(command, check=True)  # its own process: one simulation per process
        checkpoint = resolve_checkpoint(args.policy, args.env, args.checkpoint)
    try:
        check_policy(args.policy, args.env, checkpoint, args.encoder_weights)
    except (CheckpointError, FileNotFoundError) as err:
        parser.error(str(err))
    out_dir = args.out or results_dir(args.env, args.policy)
    try:
        with FolderLock(out_dir):
            clean_debris(out_dir)
            return evaluate(args, cfg, checkpoint, episodes, out_dir)
    except FolderInUse as err:
        parser.error(str(err))
    except WorkerError as err:
        fail(parser, err)


def traversal_graphs(env, env_name: str, split: str, episodes: list, kind: str) -> tuple[dict, dict]:
    """The topological graph of a prior traversal (`kind`, envs.scenes.TRAVERSALS) of each episode's layout:
    read from data/<env>/graphs_<split>_<kind>/, the missing ones rendered first (in this simulation), each
    node from VIEWS headings. Returns the graphs by episode id and what they cost: nodes per graph, and the
    wall time of rendering them."""
    from envs.scenes import generate, traversal
    from episodes.graphs import VIEWS, TraversalGraph, load_graph, record_build, save_graph, view_poses
    from rollouts.traversal import render_traversals

    folder = data_dir(env_name, f"graphs_{split}_{kind}")
    graphs = {i: g for i in range(len(episodes)) if (g := load_graph(folder, i)) is not None}
    missing = [i for i in range(len(episodes)) if i not in graphs]
    if missing:
        start = time.perf_counter()
        routes = [traversal(generate(env_name, episodes[i][0]), episodes[i][1], np.random.default_rng([i, 7]),
                            kind=kind) for i in missing]  # fmt: skip
        images = render_traversals(env, [episodes[i] for i in missing], [view_poses(r) for r in routes])
        for i, route, seen in zip(missing, routes, images, strict=True):
            graphs[i] = TraversalGraph(
                seen.reshape(len(route), VIEWS, *seen.shape[1:]), route.astype(np.float32)
            )
            save_graph(folder, i, graphs[i])
        record_build(folder, len(missing), sum(len(r) for r in routes), time.perf_counter() - start)
    info = json.loads((folder / "graphs.json").read_text()) if (folder / "graphs.json").exists() else {}
    nodes = [len(g) for g in graphs.values()]
    return graphs, {"graphs": len(graphs), "mean_nodes": float(np.mean(nodes)), "max_nodes": int(np.max(nodes)),
                    "build_seconds_per_graph": round(info.get("seconds", 0.0) / max(info.get("graphs", 1), 1), 2),
                    "folder": str(folder)}  # fmt: skip


def navigating(args, env, policy, episodes: list) -> tuple[object, dict]:
    """The policy as the flags ask: navigating the topological graph (--graph), wrapped by the --oracle
    diagnostic or by the --scan; and what the graphs cost ({} without --graph)."""
    from evaluation import oracles

    u, graph_info = env.unwrapped, {}
    if args.graph:
        from policies.pignav.topological import TopologicalNavigator

        kind = args.traversal or "route"
        graphs, graph_info = traversal_graphs(env, args.env, args.split, episodes, kind)
        localiser = oracles.PoseLocaliser(u) if args.oracle == "pose" else None
        policy = TopologicalNavigator(policy, graphs, localiser)
        graph_info["traversal"] = kind
        if args.oracle == "planner":
            policy = oracles.PlannerDrive(policy, u)
    if args.oracle == "face":
        policy = oracles.FacePathFirst(policy, u.num_envs)
    if args.scan:
        from policies.pignav.scan import ScanFirst

        policy = ScanFirst(policy, u.num_envs)
    return policy, graph_info


def evaluate(args, cfg, checkpoint: Path | None, episodes: list, out_dir: Path) -> int:
    from rollouts.closed_loop import run_episodes, run_episodes_on_workers

    start, graph_info, video = time.perf_counter(), {}, 3 if args.video else 0
    kind, env_name, seed, weights = args.policy, args.env, args.seed, args.encoder_weights

    def policy_for(env):
        unwrapped = env.unwrapped
        return make_policy(
            kind, env_name, checkpoint, unwrapped.num_envs, str(unwrapped.device), seed, weights
        )

    if uses_workers(args):
        from rollouts.workers import WorkerPool

        with WorkerPool(args.env, cfg, args.workers, args.worker_threads, args.ray_address) as pool:
            result = run_episodes_on_workers(pool, policy_for, episodes, seed=args.seed, video_episodes=video)
    else:
        with launch(args.env, cfg) as env:
            policy, graph_info = navigating(args, env, policy_for(env), episodes)
            result = run_episodes(env, policy, episodes, seed=args.seed, video_episodes=video)
    for record in result.records:  # what the set says of each episode: distance bin, goal visible at start
        tags = episode_tags(episodes[record.episode_id])
        record.bin = tags.get("bin", "")
        record.visible = {True: "yes", False: "no"}.get(tags.get("visible"), "")
    summary = {
        "policy": args.policy,
        "env": args.env,
        "layout": args.layout,
        "split": args.split,
        "checkpoint": str(checkpoint) if checkpoint else None,
        "encoder": result.policy_info.get("encoder"),
        "variant": variant_name(result.policy_info.get("variant"), args),
        "oracle": args.oracle,
        "instruction_style": getattr(cfg, "instruction_style", None),
        "num_envs": cfg.scene.num_envs,
        "workers": args.workers if uses_workers(args) else 1,
        "device": cfg.sim.device,
        "seed": args.seed,
        "episodes_requested": len(episodes),
        "interrupted": result.interrupted,
        "wall_seconds": round(time.perf_counter() - start, 1),
        **summarize(result.records),
        **summarize_groups(result.records),
        **({"graph": graph_info} if graph_info else {}),
    }
    summary.update(expert_comparison(out_dir, summary, result.records))
    written = write_report(out_dir, summary, result, episodes, plots=not args.no_plots,
                           video_format=args.video_format)  # fmt: skip
    print(f"{args.policy} on {args.env}/{args.layout}/{args.split}: success {summary.get('success_rate', 0):.1%} over "
          f"{summary['episodes']} episodes, SPL {summary.get('spl', 0):.3f}")  # fmt: skip
    print("wrote " + ", ".join(str(p) for p in written))
    return 130 if result.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())

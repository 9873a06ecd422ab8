"""Runs supervision's LineZone on the tracks exported by the ffc counting bench and
compares rates and counts with ffc's LineCounter (issue 3).

Usage: supervision_compare.py TRACKS.json
"""

import json
import sys
import time
import warnings

import numpy as np

# supervision warns at import that OpenCV is missing; LineZone only uses NumPy.
warnings.filterwarnings("ignore", message=".*OpenCV.*")
import supervision as sv  # noqa: E402


def run(lines, frames):
    """Counts per ROI as {"in": n, "out": n} and the elapsed seconds of trigger() alone."""
    zones = {}
    for line in lines:
        # supervision counts "in" when a point moves to the side where the cross product
        # of (end - start) and (point - start) is negative; ffc counts In towards the
        # positive side. Giving supervision the reversed segment makes both "in" the same
        # direction.
        start = sv.Point(line["end"][0], line["end"][1])
        end = sv.Point(line["start"][0], line["start"][1])
        zones[line["roi"]] = sv.LineZone(
            start=start, end=end, triggering_anchors=[sv.Position.CENTER]
        )
    detections = []
    for objects in frames:
        arr = np.asarray(objects, dtype=float).reshape(-1, 3)
        xyxy = np.stack([arr[:, 1], arr[:, 2], arr[:, 1], arr[:, 2]], axis=1)
        detections.append(sv.Detections(xyxy=xyxy, tracker_id=arr[:, 0].astype(int)))
    started = time.perf_counter()
    for d in detections:
        for zone in zones.values():
            zone.trigger(d)
    elapsed = time.perf_counter() - started
    counts = {str(roi): {"in": z.in_count, "out": z.out_count} for roi, z in zones.items()}
    return counts, elapsed


def main():
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    lines = doc["lines"]
    print(f"supervision {sv.__version__}, numpy {np.__version__}")
    print(f"lines: {[(l['roi'], l['start'], l['end'], l['band']) for l in lines]}; {doc['in_direction']}")
    ok = True
    for name, scenario in doc["scenarios"].items():
        frames = scenario["frames"]
        counts, elapsed = run(lines, frames)
        sv_fps = len(frames) / elapsed
        ffc_fps = scenario["ffc_frames_per_second"]
        print(f"\n== {name}: {len(frames)} frames, up to {scenario['max_tracks']} tracks, {len(lines)} lines")
        print(f"   rate: ffc {ffc_fps:,.0f} frames/s | supervision {sv_fps:,.0f} frames/s | ffc/supervision = {ffc_fps / sv_fps:,.1f}x")
        print(f"   (naive sign-change check in Rust: {scenario['naive_frames_per_second']:,.0f} frames/s)")
        print(f"   {'roi':>3} {'ffc in/out':>12} {'supervision in/out':>20} {'naive in/out':>14}")
        for roi in sorted(counts):
            f_, s_, n_ = scenario["ffc"][roi], counts[roi], scenario["naive"][roi]
            print(f"   {roi:>3} {f_['in']:>5}/{f_['out']:<6} {s_['in']:>9}/{s_['out']:<10} {n_['in']:>6}/{n_['out']:<7}")
        agree = all(scenario["ffc"][roi] == counts[roi] for roi in counts)
        if name == "clean":
            print(f"   clean tracks: counts {'AGREE' if agree else 'DIFFER'}")
            ok &= agree
        else:
            print(
                "   jittered tracks: counts "
                + ("agree" if agree else "differ")
                + ": supervision has no band, so every jitter across the line and every"
                " U-turn from a person standing on it counts; ffc counts a person once"
                " per passage from one zone through the band to the other"
            )
            for roi in sorted(counts):
                f_, s_ = scenario["ffc"][roi], counts[roi]
                print(
                    f"   roi {roi}: net In-Out ffc {f_['in'] - f_['out']:+d}, supervision {s_['in'] - s_['out']:+d};"
                    f" extra crossings counted by supervision: {s_['in'] + s_['out'] - f_['in'] - f_['out']}"
                )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

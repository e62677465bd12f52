#!/usr/bin/env python3
"""Reads a directory of TensorBoard event files with the tensorboard package's own loader
(EventAccumulator, the code `tensorboard --logdir` runs) and prints every scalar as
`tag step value`. Checks what Swift's TensorBoardWriter writes; exits non-zero when the
directory holds no scalars or a record is corrupt.

    pip install tensorboard
    TENSORBOARD_TEST_DIR=/tmp/tb swift test --filter TensorBoardWriterTests/testEventFileReadsBack
    python Tools/reference/check_tensorboard_events.py /tmp/tb
"""
import glob
import os
import struct
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing import event_file_loader


def count_framed_records(path):
    """Records as delimited by their uint64 length fields, with no CRC check."""
    data = open(path, "rb").read()
    n = pos = 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 12 + length + 4
        if pos <= len(data):
            n += 1
    return n


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} DIR")
    directory = sys.argv[1]
    files = sorted(glob.glob(os.path.join(directory, "events.out.tfevents.*")))
    if not files:
        sys.exit(f"{directory}: no events.out.tfevents.* files")
    for path in files:
        # The raw loader checks both CRCs of every record and stops (with a logged warning) at a
        # corrupt one, so compare its count with the records the length fields frame.
        events = list(event_file_loader.RawEventFileLoader(path, detect_file_replacement=False).Load())
        framed = count_framed_records(path)
        if len(events) != framed:
            sys.exit(f"{path}: tensorboard read {len(events)} of {framed} records: record {len(events)} is corrupt")
        first = events[0] if events else None
        from tensorboard.compat.proto import event_pb2
        version = event_pb2.Event.FromString(first).file_version if first else None
        print(f"{os.path.basename(path)}: {len(events)} records, file_version {version!r}")
    acc = EventAccumulator(directory, size_guidance={"scalars": 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    if not tags:
        sys.exit(f"{directory}: no scalars")
    total = 0
    for tag in sorted(tags):
        for e in acc.Scalars(tag):
            print(f"{tag} step={e.step} value={e.value!r} wall_time={e.wall_time!r}")
            total += 1
    print(f"OK: {len(tags)} tags, {total} scalars in {len(files)} file(s)")


if __name__ == "__main__":
    main()

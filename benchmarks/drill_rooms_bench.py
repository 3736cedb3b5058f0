"""What a practice room of the simulation drill costs: the wall and CPU time to open one (a
fresh SQLite database migrated, the demo population loaded, the room's app built), the memory
the process grows by per room, and the time to close one (its folder deleted).

Run from the project root::

    .venv/bin/python benchmarks/drill_rooms_bench.py --rooms 8

Rooms are opened and closed through ``DrillRooms`` exactly as the console opens them; nothing
outside their temporary folders is written.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from hongbao.entrypoints.web.drill_rooms import DrillRooms, RoomLimits
from hongbao.platform.clock import SystemClock


def resident_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rooms", type=int, default=8)
    arguments = parser.parse_args()
    rooms = DrillRooms(SystemClock(), RoomLimits(max_rooms=arguments.rooms))
    walls, cpus = [], []
    before = resident_mib()
    for number in range(arguments.rooms):
        wall, cpu = time.perf_counter(), time.process_time()
        rooms.open(f"person-{number}")
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    grown = resident_mib() - before
    closing = time.perf_counter()
    rooms.close_all()
    closed = (time.perf_counter() - closing) / arguments.rooms
    print(f"rooms opened: {arguments.rooms}")
    print(f"open, wall: median {statistics.median(walls):.3f} s, max {max(walls):.3f} s")
    print(f"open, CPU:  median {statistics.median(cpus):.3f} s")
    print(f"peak resident memory grew by {grown:.0f} MiB ({grown / arguments.rooms:.1f} per room)")
    print(f"close: {closed * 1000:.1f} ms per room")


if __name__ == "__main__":
    main()

"""The bacpypes3 client reading an FFC device (ours, simulated), for interop tests and the
benchmark baseline.

    python bacpypes3_read_ffc.py --address 127.0.0.1/32:47820 \
        --device 127.0.0.1:47808 --device-instance 123456 [--repeat N]

Does what a building management system does: ReadProperty of the device's object-name,
then a full read (object-list, then ReadPropertyMultiple of object-name and present-value
of every object), repeated --repeat times. Prints one JSON object: the device name, the
present value of analog-value 0 read with ReadProperty, every In-C-X/Out-C-X present value
from the last read, and the mean seconds per full read.
"""

import asyncio
import json
import sys
import time

from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.pdu import Address
from bacpypes3.apdu import ErrorRejectAbortNack


async def full_read(app, device: Address, instance: int) -> dict:
    object_list = await app.read_property(device, f"device,{instance}", "objectList")
    specs = []
    for objid in object_list:
        if str(objid).startswith("device,"):
            continue
        specs.append(str(objid))
        specs.append(["objectName", "presentValue"])
    results = await app.read_property_multiple(device, specs)
    names = {}
    values = {}
    for objid, prop, _index, value in results:
        if isinstance(value, ErrorRejectAbortNack):
            continue
        key = str(objid)
        if str(prop) in ("objectName", "object-name"):
            names[key] = str(value)
        elif str(prop) in ("presentValue", "present-value"):
            values[key] = float(value)
    return {names[k]: values[k] for k in names if k in values}


async def main() -> None:
    parser = SimpleArgumentParser()
    parser.add_argument("--device", required=True, help="host:port of the FFC device")
    parser.add_argument("--device-instance", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--discover",
        action="store_true",
        help="Who-Is the device first, so bacpypes3 knows its max APDU (as a BMS would)",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="after the first answer, read N from each stdin line, do N full reads and "
        "print the elapsed seconds (for the benchmark); stop at end of input",
    )
    args = parser.parse_args()
    app = Application.from_args(args)
    try:
        device = Address(args.device)
        if args.discover:
            low = high = args.device_instance
            await app.who_is(low, high, device)
        name = await app.read_property(device, f"device,{args.device_instance}", "objectName")
        first = await app.read_property(device, "analog-value,0", "presentValue")
        started = time.perf_counter()
        values = {}
        for _ in range(args.repeat):
            values = await full_read(app, device, args.device_instance)
        elapsed = time.perf_counter() - started
        json.dump(
            {
                "device_name": str(name),
                "analog_value_0": float(first),
                "values": values,
                "seconds_per_read": elapsed / max(args.repeat, 1),
            },
            sys.stdout,
        )
        print(flush=True)
        while args.serve:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line.strip():
                break
            count = int(line)
            started = time.perf_counter()
            for _ in range(count):
                await full_read(app, device, args.device_instance)
            print(time.perf_counter() - started, flush=True)
    finally:
        app.close()


if __name__ == "__main__":
    asyncio.run(main())

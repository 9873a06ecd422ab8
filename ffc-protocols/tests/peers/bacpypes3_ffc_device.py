"""A bacpypes3 device serving the 96 FFC values, for interop tests of our BACnet client.

    python bacpypes3_ffc_device.py --name FFC --instance 456789 --address 127.0.0.1/32:47809

Objects: analog-value X is In-C-X and analog-value 48+X is Out-C-X, X = 0..47, with present
values In = 100 + 3X and Out = 500 + 7X (the Rust test checks those). Prints "ready" on
stdout once the socket is bound, then serves until killed.
"""

import asyncio

from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.local.analog import AnalogValueObject


def count(metric: str, x: int) -> float:
    return float(100 + 3 * x) if metric == "In" else float(500 + 7 * x)


async def main() -> None:
    args = SimpleArgumentParser().parse_args()
    app = Application.from_args(args)
    for offset, metric in ((0, "In"), (48, "Out")):
        for x in range(48):
            app.add_object(
                AnalogValueObject(
                    objectIdentifier=("analog-value", offset + x),
                    objectName=f"{metric}-C-{x}",
                    presentValue=count(metric, x),
                    statusFlags=[0, 0, 0, 0],
                    covIncrement=1.0,
                    units="noUnits",
                    description=f"{metric} count of the hour {x} hours before the current hour",
                )
            )
    print("ready", flush=True)
    try:
        await asyncio.Future()
    finally:
        app.close()


if __name__ == "__main__":
    asyncio.run(main())

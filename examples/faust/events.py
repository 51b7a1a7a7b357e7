"""Events and timestamps (after Faust's streams guide): read each event with its
message, acknowledge it, and forward it stamped with its own time.

Run:  python events.py send readings '{"sensor": "s1", "value": 20.5}'
      python events.py worker
"""

from datetime import datetime, timezone

import streamctl as faust

app = faust.App("faust-events", broker="local://")


class Reading(faust.Record):
    sensor: str
    value: float


readings_topic = app.topic("readings", value_type=Reading)
stamped_topic = app.topic("stamped", value_type=Reading)


@app.agent(readings_topic)
async def stamp(stream):
    async for event in stream.events():
        async with event:
            when = datetime.fromtimestamp(event.message.timestamp, timezone.utc)
            fut = await stamped_topic.send(value=event.value, timestamp=event.message.timestamp)
            await fut
            print(f"{event.value.sensor} read in {when.year}: {event.value.value}")


@app.agent(stamped_topic)
async def check(stream):
    async for event in stream.events():
        event.ack()
        print(f"stamped {event.value.sensor} at offset {event.message.offset}")


if __name__ == "__main__":
    app.main()

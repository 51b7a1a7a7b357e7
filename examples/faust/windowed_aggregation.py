"""Windowed aggregation (after Faust's examples/windowed_aggregation.py): readings are
collected in 10-second tumbling windows by their own ``date``; when a window closes, its
count and mean go to a sink topic, where another agent reports them.

Ported by changing only the import and the broker URL. Faust's version also feeds itself
random readings from a timer; here the readings are sent, so the results are exact.
Run:  python windowed_aggregation.py send raw-event '{"date": 1700000001, "value": 0.2}'
      python windowed_aggregation.py worker
"""

from datetime import datetime, timedelta, timezone

import streamctl as faust


class RawModel(faust.Record):
    date: datetime
    value: float


class AggModel(faust.Record):
    date: datetime
    count: int
    mean: float


TOPIC = "raw-event"
SINK = "agg-event"
TABLE = "tumbling_table"
BROKER = "local://"
CLEANUP_INTERVAL = 1.0
WINDOW = 10
WINDOW_EXPIRES = 1
PARTITIONS = 1

app = faust.App("windowed-agg", broker=BROKER, version=1, topic_partitions=1)
app.conf.table_cleanup_interval = CLEANUP_INTERVAL

source = app.topic(TOPIC, value_type=RawModel)
sink = app.topic(SINK, value_type=AggModel)


def hhmmss(epoch_seconds):
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).strftime("%H:%M:%S")


def window_processor(key, events):
    start = key[1][0]
    values = [event.value for event in events]
    count = len(values)
    mean = sum(values) / count
    print(f"window {hhmmss(start)} closed: {count} events, mean {mean:.2f}")
    sink.send_soon(value=AggModel(date=start, count=count, mean=mean))


tumbling_table = (
    app.Table(
        TABLE,
        default=list,
        partitions=PARTITIONS,
        on_window_close=window_processor,
    )
    .tumbling(WINDOW, expires=timedelta(seconds=WINDOW_EXPIRES))
    .relative_to_field(RawModel.date)
)


@app.agent(source)
async def collect_windowed_events(stream):
    async for event in stream:
        value_list = tumbling_table["events"].value()
        value_list.append(event)
        tumbling_table["events"] = value_list


@app.agent(sink)
async def report(aggregates):
    async for agg in aggregates:
        print(f"aggregate {hhmmss(agg.date)}: count={agg.count} mean={agg.mean:.2f}")


if __name__ == "__main__":
    app.main()

"""Agent sinks (after Faust's agents guide): what an agent yields goes to a callable,
another agent and a topic.

Run:  python agent_sinks.py send @add '{"a": 2, "b": 3}'
      python agent_sinks.py worker
"""

import streamctl as faust

app = faust.App("faust-agent-sinks", broker="local://")


class Add(faust.Record):
    a: int
    b: int


results_topic = app.topic("sums", value_type=int)


def log_sum(value):
    print(f"callable sink got {value}")


@app.agent()
async def record_sum(sums):
    async for value in sums:
        print(f"agent sink got {value}")


@app.agent(value_type=Add, sink=[log_sum, record_sum, results_topic])
async def add(stream):
    async for value in stream:
        yield value.a + value.b


@app.agent(results_topic)
async def read_sums(sums):
    async for value in sums:
        print(f"topic sink got {value}")


if __name__ == "__main__":
    app.main()

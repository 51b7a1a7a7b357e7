"""The windowed-table example of Faust's testing guide, ported: the agent counts orders
per account in one-hour tumbling windows, and the test reads the count of the current
event's window with ``current(event)`` and of an earlier window with ``delta``.

Run:  python -m pytest examples/faust/test_testing_guide_windows.py
"""

import pytest

import streamctl as faust


class Order(faust.Record, serializer="json"):
    account_id: str
    product_id: str
    amount: int
    price: float


app = faust.App("faust-testing-windows", broker="local://")
orders_topic = app.topic("orders", value_type=Order)

# orders per account in the last hour (a one-hour tumbling window)
orders_for_account = (
    app.Table("order-count-by-account", default=int).tumbling(3600).relative_to_stream()
)


@app.agent(orders_topic)
async def process_order(orders):
    async for order in orders.group_by(Order.account_id):
        orders_for_account[order.account_id] += 1
        yield order


@pytest.mark.asyncio()
async def test_process_order():
    app.conf.store = "memory://"
    async with process_order.test_context() as agent:
        order = Order(account_id="1", product_id="2", amount=1, price=300)
        event = await agent.put(order)
        # the window of the event just processed
        assert orders_for_account["1"].current(event) == 1
        # three hours earlier there were no orders (the guide asserts this value's
        # truth, which a count of 0 never has: compared with 0 here)
        assert orders_for_account["1"].delta(3600 * 3, event) == 0
        event = await agent.put(order)
        assert orders_for_account["1"].current(event) == 2
        assert agent.results[event.message.offset] == order

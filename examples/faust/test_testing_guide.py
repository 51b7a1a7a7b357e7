"""The examples of Faust's testing guide, ported: agents tested with test_context().

Run:  python -m pytest examples/faust/test_testing_guide.py
"""

from unittest.mock import Mock, patch

import pytest

import streamctl as faust

app = faust.App("faust-testing-guide", broker="local://")


class Order(faust.Record, serializer="json"):
    account_id: str
    product_id: str
    amount: int
    price: float


orders_topic = app.topic("orders", value_type=Order)
orders_for_account = app.Table("order-count-by-account", default=int)


@app.agent(orders_topic)
async def order(orders):
    async for order in orders.group_by(Order.account_id):
        orders_for_account[order.account_id] += 1
        yield order


@app.agent()
async def foo(stream):
    async for value in stream:
        await bar.send(value=value)
        yield value


@app.agent()
async def bar(stream):
    async for value in stream:
        yield value + "YOLO"


@pytest.fixture()
def test_app():
    app.finalize()
    app.conf.store = "memory://"
    app.flow_control.resume()
    return app


@pytest.mark.asyncio()
async def test_order(test_app):
    async with order.test_context() as agent:
        first = Order(account_id="1", product_id="2", amount=1, price=300)
        event = await agent.put(first)
        assert agent.results[event.message.offset] == first
        assert orders_for_account["1"] == 1
        await agent.put(first)
        assert orders_for_account["1"] == 2


def mock_coro(return_value=None, **kwargs):
    """Create a mock coroutine function."""

    async def wrapped(*args, **kwargs):
        return return_value

    return Mock(wraps=wrapped, **kwargs)


@pytest.mark.asyncio()
async def test_foo(test_app):
    with patch(__name__ + ".bar") as mocked_bar:
        mocked_bar.send = mock_coro()
        async with foo.test_context() as agent:
            await agent.put("hey")
            mocked_bar.send.assert_called_with(value="hey")


@pytest.mark.asyncio()
async def test_bar(test_app):
    async with bar.test_context() as agent:
        event = await agent.put("hey")
        assert agent.results[event.message.offset] == "heyYOLO"

"""A small order system (after Faust's order examples): products are registered in an
untyped table, orders reserve stock, and reservations go out on an untyped topic.

Run:  python order_system.py send products '{"id": 1, "name": "lamp", "stock": 3}'
      python order_system.py send orders '{"id": "o-1", "product_id": 1, "quantity": 2}'
      python order_system.py worker
"""

import streamctl as faust

app = faust.App("faust-order-system", broker="local://", value_serializer="json")


class Product(faust.Record):
    id: int
    name: str
    stock: int


class Order(faust.Record):
    id: str
    product_id: int
    quantity: int


class Reservation(faust.Record):
    order_id: str
    product: Product
    accepted: bool


products_topic = app.topic("products", value_type=Product)
orders_topic = app.topic("orders", value_type=Order)
reservations_topic = app.topic("reservations")  # untyped: Records come back as Records

catalog = app.Table("catalog", key_type=int)
stock = app.Table("stock", key_type=int, value_type=int, default=int)


@app.agent(products_topic)
async def register_product(products):
    async for product in products:
        catalog[product.id] = product
        stock[product.id] += product.stock


@app.agent(orders_topic)
async def reserve(orders):
    async for order in orders:
        product = catalog[order.product_id]
        accepted = stock[order.product_id] >= order.quantity
        if accepted:
            stock[order.product_id] -= order.quantity
        await reservations_topic.send(
            value=Reservation(order_id=order.id, product=product, accepted=accepted)
        )


@app.agent(reservations_topic)
async def ship(reservations):
    async for reservation in reservations:
        verdict = "shipping" if reservation.accepted else "out of stock for"
        print(f"{verdict} {reservation.order_id}: {reservation.product.name}")


if __name__ == "__main__":
    app.main()

"""Withdrawals (after Faust's examples/withdrawals.py, without its windows): totals per
user, and a count per country of the large withdrawals.

Run:  python withdrawals.py send withdrawals '{"user": "ann", "country": "NO", "amount": 10.0}'
      python withdrawals.py worker
"""

import streamctl as faust

app = faust.App(
    "faust-withdrawals",
    broker="local://",
    origin="examples.withdrawals",
    web_enabled=False,
    stream_buffer_maxsize=1000,
)


class Withdrawal(faust.Record, serializer="json"):
    user: str
    country: str
    amount: float


withdrawals_topic = app.topic("withdrawals", value_type=Withdrawal)

user_totals = app.Table("user_totals", default=float)
large_by_country = app.Table("large_by_country", default=int)


@app.agent(withdrawals_topic)
async def track_user_withdrawal(withdrawals):
    async for withdrawal in withdrawals.group_by(Withdrawal.user):
        user_totals[withdrawal.user] += withdrawal.amount
        print(f"user {withdrawal.user} has withdrawn {user_totals[withdrawal.user]:.2f}")


@app.agent(withdrawals_topic)
async def track_country_withdrawal(withdrawals):
    large = withdrawals.filter(lambda w: w.amount >= 100)
    async for withdrawal in large.group_by(Withdrawal.country):
        large_by_country[withdrawal.country] += 1
        print(f"country {withdrawal.country}: {large_by_country[withdrawal.country]} large")


if __name__ == "__main__":
    app.main()

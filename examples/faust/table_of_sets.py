"""Table of sets (after Faust's SetTable docs): the accounts each user logged in from.

Run:  python table_of_sets.py send logins '{"user": "ann", "account": "a1"}'
      python table_of_sets.py worker
"""

import streamctl as faust

app = faust.App("faust-table-of-sets", broker="local://")


class Login(faust.Record):
    user: str
    account: str


logins_topic = app.topic("logins", value_type=Login)

user_accounts = app.SetTable("user_accounts", value_type=str)


@app.agent(logins_topic)
async def track_logins(logins):
    async for login in logins.group_by(Login.user):
        user_accounts[login.user].add(login.account)
        accounts = ", ".join(sorted(user_accounts[login.user]))
        print(f"{login.user}: {accounts}")


if __name__ == "__main__":
    app.main()

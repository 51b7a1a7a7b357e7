"""Page views (after Faust's tables guide): count views per page, regrouped by page id.

Run:  python page_views.py send page_views '{"id": "home", "user": "ann"}'
      python page_views.py worker
"""

import streamctl as faust

app = faust.App("faust-page-views", broker="local://", topic_partitions=4)


class PageView(faust.Record):
    id: str
    user: str


page_view_topic = app.topic("page_views", value_type=PageView)

page_views = app.Table("page_views", default=int)


@app.agent(page_view_topic)
async def count_page_views(views):
    async for view in views.group_by(PageView.id):
        page_views[view.id] += 1
        print(f"{view.id} viewed {page_views[view.id]} time(s)")


if __name__ == "__main__":
    app.main()

"""Word count (after Faust's examples/word_count.py): sentences in, a count per word.

Ported by changing only the import and the broker URL.
Run:  python word_count.py send posts '"the cat sat"'  then  python word_count.py worker
"""

import streamctl as faust

app = faust.App(
    "faust-word-count",
    broker="local://",
    version=1,
    topic_partitions=2,
)

posts_topic = app.topic("posts", value_type=str)
words_topic = app.topic("words", key_type=str, value_type=str)

word_counts = app.Table("word_counts", default=int, help="Keep count of words (str to int).")


@app.agent(posts_topic)
async def shuffle_words(posts):
    async for post in posts:
        for word in post.split():
            await words_topic.send(key=word, value=word)


@app.agent(words_topic)
async def count_words(words):
    """Count words from blog post article body."""
    async for word in words:
        word_counts[word] += 1
        print(f"{word}: {word_counts[word]}")


if __name__ == "__main__":
    app.main()

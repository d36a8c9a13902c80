"""Writes data/train.csv and data/test.csv: customer support tickets labelled with their intent
(refund, delivery, account, bug), generated from templates with a fixed seed (the same files
every time). The worked example of the README: a task that is not a paper benchmark.

    python examples/support-tickets/make_data.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

PRODUCTS = [
    "blender", "desk lamp", "phone case", "backpack", "coffee grinder", "yoga mat",
    "headphones", "kettle", "running shoes", "monitor stand", "wool sweater", "toaster",
]
OPENERS = ["Hi,", "Hello,", "Hey there,", "Good morning,", "", "Dear support,", "Hi team,"]
CLOSERS = ["Thanks.", "Please help.", "Thank you!", "", "Any update would be great.", "Cheers."]
INTENTS = {
    "refund": [
        "I returned the {p} last week and still have not got my money back.",
        "The {p} arrived broken, I want a refund instead of a replacement.",
        "Can I get my money back for the {p}? It is not what I expected.",
        "You charged me twice for the {p}, please refund the second payment.",
        "I cancelled my order of the {p} before it shipped, where is my refund?",
        "The {p} stopped working after a day and I would like to return it for a refund.",
    ],
    "delivery": [
        "My {p} was supposed to arrive on Monday and the tracking has not moved since.",
        "The parcel with my {p} says delivered but nothing is at my door.",
        "Can you ship the {p} to a different address? I am moving next week.",
        "It has been three weeks and my {p} has still not arrived.",
        "The courier left the {p} at the wrong house.",
        "How long does delivery of the {p} take to Canada?",
    ],
    "account": [
        "I cannot log in to my account since I changed my email, and I want to check my {p} order.",
        "Please delete my account and all my data.",
        "I forgot my password and the reset email never comes.",
        "How do I change the phone number on my account?",
        "Someone else seems to have used my account to order a {p}.",
        "I want to merge my two accounts so my {p} order shows up in one place.",
    ],
    "bug": [
        "The app crashes every time I open the page of the {p}.",
        "The checkout button does nothing when I try to buy the {p}.",
        "The website shows an error 500 when I add the {p} to my cart.",
        "The discount code field does not accept any code for the {p}.",
        "Pictures of the {p} do not load on your site in Firefox.",
        "The order history page is blank, so I cannot see my {p} order.",
    ],
}


def ticket(rng: random.Random, intent: str) -> str:
    body = rng.choice(INTENTS[intent]).format(p=rng.choice(PRODUCTS))
    parts = [rng.choice(OPENERS), body, rng.choice(CLOSERS)]
    return " ".join(part for part in parts if part)


def rows(rng: random.Random, n: int, start: int) -> list[dict[str, str]]:
    labels = [intent for intent in INTENTS for _ in range(n // len(INTENTS))]
    rng.shuffle(labels)
    return [
        {"ticket_id": f"T{start + i:04d}", "text": ticket(rng, intent), "intent": intent}
        for i, intent in enumerate(labels)
    ]


def main() -> None:
    rng = random.Random(0)
    folder = Path(__file__).resolve().parent / "data"
    folder.mkdir(exist_ok=True)
    for name, n, start in (("train", 240, 0), ("test", 80, 1000)):
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["ticket_id", "text", "intent"])
            writer.writeheader()
            writer.writerows(rows(rng, n, start))
    print(f"wrote {folder / 'train.csv'} and {folder / 'test.csv'}")


if __name__ == "__main__":
    main()

"""The product catalogue (seeded list prices and popularity) and which categories are bought together."""

from __future__ import annotations

import numpy as np

from clientele_demo.vocabularies import (
    CATEGORY_COMPANIONS,
    PRODUCT_CATEGORIES,
    PRODUCT_GENERATIONS,
    PRODUCT_ITEMS,
    PRODUCT_MODELS,
    numeric_column,
)

CATEGORY_COUNT = len(PRODUCT_CATEGORIES)
ITEMS_PER_CATEGORY = len(PRODUCT_ITEMS) // CATEGORY_COUNT


def build_catalogue(seed: int) -> dict[str, np.ndarray]:
    """Every product with its category, item, model, generation and list price in CNY cents."""
    rng = np.random.default_rng([seed, 1])
    category, item, model, generation, price = [], [], [], [], []
    lows, highs = numeric_column(PRODUCT_CATEGORIES, 2), numeric_column(PRODUCT_CATEGORIES, 3)
    for c, (low, high) in enumerate(zip(lows, highs, strict=True)):
        for i in range(ITEMS_PER_CATEGORY):
            base = np.exp(rng.uniform(np.log(low), np.log(high / 2)))
            for m, (_, model_factor) in enumerate(PRODUCT_MODELS):
                for g, (_, generation_factor) in enumerate(PRODUCT_GENERATIONS):
                    category.append(c)
                    item.append(i)
                    model.append(m)
                    generation.append(g)
                    price.append(base * model_factor * generation_factor)
    prices = np.asarray(price)
    # Shop prices: ...9 for the cheap, ...99 above a thousand.
    list_units = np.where(prices < 1000, np.round(prices / 10) * 10 - 1, np.round(prices / 100) * 100 - 1)
    category_array = np.asarray(category)
    popularity = np.zeros(prices.size)
    for c in range(CATEGORY_COUNT):
        members = np.flatnonzero(category_array == c)
        popularity[members] = 1.0 / (1 + rng.permutation(members.size)) ** 1.1
    cumulative = np.zeros(prices.size)
    for c in range(CATEGORY_COUNT):
        members = np.flatnonzero(category_array == c)
        cumulative[members] = np.cumsum(popularity[members]) / popularity[members].sum()
    return {
        "category": category_array,
        "item": np.asarray(item),
        "model": np.asarray(model),
        "generation": np.asarray(generation),
        "list_cents": (np.maximum(list_units, 9) * 100).astype(np.int64),
        "within_category_cumulative": cumulative,
        "category_start": np.searchsorted(category_array, np.arange(CATEGORY_COUNT)),
        "category_size": np.bincount(category_array, minlength=CATEGORY_COUNT),
    }


def pick_products(rng: np.random.Generator, catalogue: dict[str, np.ndarray], category: np.ndarray) -> np.ndarray:
    """A product of each row's category, by popularity (categories are contiguous in the catalogue)."""
    keys = catalogue["category"] + catalogue["within_category_cumulative"]  # increasing across categories
    picked = np.searchsorted(keys, category + rng.random(category.size))
    return np.minimum(picked, catalogue["category_start"][category] + catalogue["category_size"][category] - 1)


def companion_weights() -> np.ndarray:
    """Category x category weights of buying the column's category with the row's (zero on the diagonal)."""
    names = [row[0] for row in PRODUCT_CATEGORIES]
    weights = np.zeros((CATEGORY_COUNT, CATEGORY_COUNT))
    for first, second, strength in CATEGORY_COMPANIONS:
        a, b = names.index(first), names.index(second)
        weights[a, b] += float(strength)
        weights[b, a] += float(strength)
    return weights

"""The demo catalogue and place names the seed draws from (invented, written for this project)."""

from __future__ import annotations

from warehouse.models import TemperatureClass

A, C, F = TemperatureClass.ambient, TemperatureClass.chilled, TemperatureClass.frozen
# department → [(subcategory, temperature, perishable, max order qty, [(product, cents, grams, ml)])]
Product = tuple[str, int, int, int]
CATALOGUE: dict[str, list[tuple[str, TemperatureClass, bool, int, list[Product]]]] = {
    "Fruit & vegetables": [
        ("Fruit", A, True, 10, [
            ("Bananas 1 kg", 199, 1000, 1500), ("Apples 1 kg", 279, 1000, 1400), ("Oranges 1.5 kg", 349, 1500, 2000),
            ("Lemons 500 g", 179, 500, 700), ("Grapes 500 g", 299, 500, 800), ("Pears 1 kg", 299, 1000, 1400)]),
        ("Vegetables", A, True, 10, [
            ("Tomatoes 500 g", 229, 500, 800), ("Cucumber", 79, 400, 500), ("Carrots 1 kg", 129, 1000, 1300),
            ("Potatoes 2.5 kg", 299, 2500, 3500), ("Onions 1 kg", 149, 1000, 1400),
            ("Peppers, 3 pack", 249, 450, 1200)]),
        ("Salad & herbs", C, True, 10, [
            ("Iceberg lettuce", 119, 500, 2000), ("Rocket 125 g", 149, 125, 900), ("Basil pot", 199, 150, 800),
            ("Mixed salad 200 g", 199, 200, 1200), ("Baby spinach 200 g", 219, 200, 1200)]),
    ],
    "Dairy & eggs": [
        ("Milk", C, True, 12, [
            ("Whole milk 1 l", 119, 1030, 1000), ("Semi-skimmed milk 1 l", 109, 1030, 1000),
            ("Oat drink 1 l", 189, 1030, 1000), ("Buttermilk 500 ml", 89, 520, 500)]),
        ("Cheese", C, True, 10, [
            ("Gouda slices 150 g", 219, 150, 250), ("Mozzarella 125 g", 99, 230, 300), ("Feta 200 g", 199, 200, 250),
            ("Parmesan 100 g", 299, 100, 150), ("Cream cheese 200 g", 139, 200, 250)]),
        ("Yoghurt", C, True, 12, [
            ("Natural yoghurt 500 g", 99, 500, 500), ("Greek yoghurt 500 g", 229, 500, 500),
            ("Fruit yoghurt 4 × 125 g", 199, 500, 600), ("Skyr 450 g", 189, 450, 450)]),
        ("Butter & eggs", C, True, 10, [
            ("Butter 250 g", 239, 250, 260), ("Free-range eggs, 10", 329, 630, 1500), ("Cream 200 ml", 99, 210, 200)]),
    ],
    "Meat & fish": [
        ("Meat", C, True, 8, [
            ("Chicken breast 500 g", 599, 500, 700), ("Minced beef 500 g", 549, 500, 600),
            ("Pork chops 400 g", 449, 400, 600), ("Salami slices 100 g", 199, 100, 200),
            ("Cooked ham 200 g", 249, 200, 300)]),
        ("Fish", C, True, 8, [
            ("Salmon fillet 250 g", 599, 250, 400), ("Smoked salmon 100 g", 349, 100, 200),
            ("Prawns 200 g", 499, 200, 350)]),
    ],
    "Frozen": [
        ("Frozen vegetables", F, False, 10, [
            ("Peas 750 g", 179, 750, 1200), ("Leaf spinach 450 g", 149, 450, 700),
            ("Mixed vegetables 750 g", 199, 750, 1200), ("Chips 1 kg", 229, 1000, 2000)]),
        ("Ice cream", F, False, 6, [
            ("Vanilla ice cream 1 l", 349, 550, 1000), ("Ice lollies, 6", 299, 360, 900),
            ("Chocolate ice cream 500 ml", 399, 300, 500)]),
        ("Frozen meals", F, False, 8, [
            ("Pizza Margherita 350 g", 249, 350, 1500), ("Fish fingers 450 g", 299, 450, 900),
            ("Lasagne 400 g", 329, 400, 700), ("Dumplings 500 g", 399, 500, 900)]),
    ],
    "Bakery": [
        ("Bread", A, True, 6, [
            ("Sourdough loaf 750 g", 329, 750, 3000), ("Wholemeal bread 500 g", 199, 500, 2000),
            ("Toast bread 500 g", 149, 500, 2500), ("Baguette", 129, 250, 2000), ("Rye bread 750 g", 279, 750, 2500)]),
        ("Pastries", A, True, 10, [
            ("Croissants, 4", 249, 240, 1500), ("Pretzel", 89, 90, 400), ("Cinnamon rolls, 4", 349, 320, 1600),
            ("Muffins, 2", 229, 200, 800)]),
    ],
    "Pantry": [
        ("Pasta & rice", A, False, 20, [
            ("Spaghetti 500 g", 129, 500, 700), ("Penne 500 g", 129, 500, 900), ("Basmati rice 1 kg", 299, 1000, 1200),
            ("Couscous 500 g", 179, 500, 650)]),
        ("Tins & jars", A, False, 20, [
            ("Chopped tomatoes 400 g", 89, 450, 420), ("Chickpeas 400 g", 99, 450, 420), ("Tuna 160 g", 199, 180, 200),
            ("Coconut milk 400 ml", 169, 430, 400), ("Sweetcorn 340 g", 119, 380, 350)]),
        ("Breakfast", A, False, 12, [
            ("Rolled oats 500 g", 119, 500, 1100), ("Muesli 750 g", 299, 750, 1600),
            ("Cornflakes 500 g", 229, 500, 3000), ("Honey 500 g", 449, 700, 400),
            ("Strawberry jam 450 g", 229, 650, 400)]),
        ("Baking & spices", A, False, 12, [
            ("Flour 1 kg", 99, 1000, 1300), ("Sugar 1 kg", 119, 1000, 1100), ("Olive oil 750 ml", 699, 1200, 750),
            ("Sea salt 500 g", 79, 500, 450), ("Black pepper 50 g", 199, 100, 150)]),
    ],
    "Snacks & sweets": [
        ("Crisps & nuts", A, False, 12, [
            ("Salted crisps 175 g", 179, 175, 2500), ("Tortilla chips 200 g", 199, 200, 2500),
            ("Salted peanuts 200 g", 169, 200, 400), ("Mixed nuts 200 g", 349, 200, 400)]),
        ("Chocolate & biscuits", A, False, 12, [
            ("Milk chocolate 100 g", 119, 100, 120), ("Dark chocolate 100 g", 149, 100, 120),
            ("Gummy bears 200 g", 129, 200, 400), ("Butter biscuits 300 g", 189, 300, 700)]),
    ],
    "Drinks": [
        ("Water", A, False, 5, [("Still water 6 × 1.5 l", 299, 9300, 9000), ("Sparkling water 1.5 l", 59, 1550, 1500)]),
        ("Soft drinks", A, False, 8, [
            ("Cola 1.5 l", 179, 1600, 1500), ("Lemonade 1 l", 149, 1080, 1000), ("Iced tea 1.5 l", 139, 1600, 1500),
            ("Energy drink 250 ml", 129, 270, 250)]),
        ("Juice", A, False, 8, [("Orange juice 1 l", 199, 1080, 1000), ("Apple juice 1 l", 169, 1080, 1000)]),
        ("Beer & wine", A, False, 6, [
            ("Lager 6 × 0.33 l", 549, 2400, 2000), ("Red wine 750 ml", 599, 1250, 750),
            ("White wine 750 ml", 599, 1250, 750), ("Alcohol-free beer 0.5 l", 99, 850, 500)]),
        ("Coffee & tea", A, False, 10, [
            ("Ground coffee 500 g", 599, 500, 900), ("Coffee beans 1 kg", 1299, 1000, 2000),
            ("Black tea, 20 bags", 179, 50, 300), ("Green tea, 20 bags", 199, 40, 300)]),
    ],
    "Household": [
        ("Cleaning", A, False, 6, [
            ("Washing-up liquid 500 ml", 129, 550, 500), ("All-purpose cleaner 1 l", 199, 1100, 1000),
            ("Dishwasher tablets, 30", 599, 540, 900), ("Bin bags, 20", 229, 400, 600)]),
        ("Paper", A, False, 4, [
            ("Toilet paper, 8 rolls", 399, 800, 12000), ("Kitchen towels, 4 rolls", 299, 500, 8000),
            ("Tissues, 10 packs", 149, 200, 1000)]),
        ("Laundry", A, False, 4, [
            ("Laundry detergent 1.5 l", 799, 1600, 1500), ("Fabric softener 1 l", 299, 1050, 1000)]),
    ],
    "Personal care": [
        ("Hygiene", A, False, 8, [
            ("Toothpaste 75 ml", 149, 100, 100), ("Shampoo 300 ml", 249, 330, 300),
            ("Shower gel 250 ml", 179, 280, 250), ("Deodorant 150 ml", 229, 120, 150),
            ("Hand soap 300 ml", 129, 330, 300)]),
        ("Baby", A, False, 4, [
            ("Nappies size 4, 44", 1299, 1400, 6000), ("Baby wipes, 80", 199, 500, 900),
            ("Baby food jar 190 g", 119, 300, 220)]),
    ],
}  # fmt: skip
# Variants multiply the catalogue: (name prefix, price factor, size factor).
VARIANTS = (("", 1.0, 1.0), ("Organic ", 1.35, 1.0), ("Value ", 0.75, 1.0), ("Family-size ", 1.8, 2.0))
MAX_SKUS = len(VARIANTS) * sum(len(sub[4]) for subs in CATALOGUE.values() for sub in subs)
PLACES = ("Market Square", "Riverside", "Old Town", "Station", "Park View", "Harbour", "Castle Hill", "University",
          "Cathedral", "North Gate", "South Gate", "Mill Lane", "Orchard", "Canal", "Bridge End", "Garden City",
          "Meadow", "Brewery", "Arsenal", "Observatory", "Lakeside", "Westend", "Eastside", "Hilltop")  # fmt: skip

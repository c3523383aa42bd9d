"""Store policies as markdown. Numbers live in TERMS so every document states the same figures."""

from __future__ import annotations

from knowledge.records import Policy

TERMS = {
    "free_ship": 50,
    "std_fee": "5.99",
    "std_days": "5-7",
    "exp_fee": "12.99",
    "exp_days": "2-3",
    "next_fee": "24.99",
    "cutoff": "1 p.m. Eastern",
    "return_days": 30,
    "restock": 15,
    "return_label": "6.95",
    "refund_days": "5-7",
    "warranty_years": 1,
    "pm_days": 14,
    "cancel_hours": 1,
    "retention_months": 24,
    "erase_days": 30,
    "email": "support@aisle-demo.example",
    "privacy_email": "privacy@aisle-demo.example",
}

_DOCS: tuple[tuple[str, str, str], ...] = (
    (
        "shipping",
        "Shipping policy",
        """# Shipping policy

## Where we ship
We ship to all 50 US states, Puerto Rico and APO/FPO addresses. We do not ship internationally yet.
Orders leave one of our fulfilment centres in Reno (NV), Columbus (OH) or Allentown (PA), whichever is closest to you.

## Shipping options and costs
| Option | Delivery time | Cost |
|---|---|---|
| Standard | {std_days} business days | free on orders over ${free_ship}, otherwise ${std_fee} |
| Expedited | {exp_days} business days | ${exp_fee} |
| Next day | next business day when ordered before {cutoff} | ${next_fee} |

The free-shipping threshold applies to the order subtotal after discounts and before tax. Delivery times
start when the order ships, which is usually within one business day of being placed.

## Carriers
We ship with UPS, FedEx, USPS and DHL eCommerce and pick the fastest carrier for your address. You receive
an email with the carrier and tracking number as soon as the label is created.

## Large and restricted items
Office chairs, monitors and tents ship standard only and may arrive in a separate box. Perfume cannot
ship by air, so expedited and next-day options are not offered for orders containing fragrance.
""",
    ),
    (
        "returns",
        "Returns policy",
        """# Returns policy

## 30-day returns
You can return most items within **{return_days} days of delivery** for a refund to your original payment
method. Items must be in their original condition with all accessories and, where possible, the original packaging.

## What cannot be returned
- Opened skincare, fragrance and other personal-care products (unopened items are fine).
- Earbuds whose hygiene seal has been removed, unless they are faulty.
- Gift cards.

## How to start a return
Start a return from your order page or by asking the assistant with your order number (ORD- followed by six
digits). We email a prepaid return label. Returns of faulty or wrongly shipped items are free; for any
other reason we deduct ${return_label} for the label from your refund.

## Restocking fee
Opened electronics and computer accessories that are not faulty carry a {restock}% restocking fee.
Unopened items never do.

## After we receive it
Refunds are issued as described in the refunds policy once the return is received and inspected,
normally within two business days of arrival.
""",
    ),
    (
        "refunds",
        "Refunds policy",
        """# Refunds policy

## When you get your money back
Once a returned item arrives and passes inspection, we issue the refund within two business days.
Your bank or card issuer then takes **{refund_days} business days** to show it on your statement.

## How you are refunded
Refunds go back to the original payment method. Orders paid by gift card are refunded to a new gift card.
Shipping charges are refunded only when the return is due to our error or a faulty product.

## Partial refunds
A partial refund applies when an item is returned late (between {return_days} and 45 days after delivery),
is missing parts, or is an opened non-faulty electronic item subject to the {restock}% restocking fee.

## Cancelled orders
If you cancel before an order ships, nothing is charged: the payment authorisation is released, which
can take up to {refund_days} business days depending on your bank.
""",
    ),
    (
        "warranty",
        "Warranty",
        """# Warranty

## Aisle limited warranty
Every product we sell carries an Aisle **{warranty_years}-year limited warranty** from the delivery date,
in addition to any manufacturer warranty. It covers defects in materials and workmanship under normal use.

## What is not covered
Accidental damage, water damage beyond the stated water-resistance rating, normal wear (such as
battery capacity declining with age, worn shoe soles or faded fabric), and unauthorised repairs.

## How to make a claim
Contact us at {email} or through the assistant with your order number and a short description or photo
of the fault. We repair, replace or refund the item, at our choice, and we pay shipping both ways.
A replacement keeps the remaining time of the original warranty or 90 days, whichever is longer.

## Manufacturer warranties
Many brands offer longer cover (for example two years on some headphones and monitors). Their terms are
in the box; we are happy to help you file a claim with them.
""",
    ),
    (
        "payment",
        "Payment methods",
        """# Payment methods

## What we accept
Visa, Mastercard, American Express, Discover, PayPal, Apple Pay, Google Pay and Aisle gift cards.
All prices are in US dollars (USD).

## When you are charged
We authorise your card when you place the order and capture the payment when the order ships.
If part of an order ships later, each shipment is charged separately.

## Sales tax
Sales tax is calculated at checkout from the delivery address and shown before you pay.

## Payment security
Card details are handled by our PCI DSS compliant payment provider and never stored on our servers.
We never ask for card numbers, passwords or one-time codes in chat or by email.
""",
    ),
    (
        "price_match",
        "Price match guarantee",
        """# Price match guarantee

## Our own price drops
If the price of an item you bought drops on our site within **{pm_days} days of purchase**, we refund the
difference. Ask the assistant or email {email} with your order number.

## Other retailers
We match the current price of an identical item (same brand, model and colour) that is in stock at
Amazon (sold by Amazon), Best Buy, Walmart or Target, before or within {pm_days} days of your purchase.

## Exclusions
Marketplace and third-party sellers, clearance, open-box or refurbished items, bundles, membership-only
prices, and lightning or limited-quantity deals. One price match per item, up to five units.
""",
    ),
    (
        "privacy",
        "Privacy notice",
        """# Privacy notice

## What we collect
Your name, email, delivery address and order history; what you view, add to cart and rate on our
site; and your conversations with the shopping assistant. We use them to fulfil orders, answer
questions and recommend products.

## What we never do
We do not sell your personal data. We never share it with advertisers. Payment card numbers are not
stored by us (see the payment policy).

## Retention
Assistant conversations are kept for {retention_months} months and then deleted. Order records are kept
for seven years because tax law requires it.

## Your choices
You can turn off personalised recommendations, download your data, or ask us to delete it at any time
from the privacy page or by emailing {privacy_email}. We complete deletion requests within {erase_days} days.
""",
    ),
    (
        "order_tracking",
        "Order tracking",
        """# Order tracking

## Your order number
Every order has a number like ORD-104233. You will find it in your confirmation email and on your account page.

## Order statuses
- **Processing**: we have your order and are preparing it; it can still be cancelled.
- **Shipped**: the carrier has the parcel; tracking events show where it is.
- **Delivered**: the carrier confirmed delivery.
- **Cancelled**: the order was cancelled before it shipped and nothing was charged.
- **Returned**: we received your return and the refund is on its way.

## Tracking updates
Tracking events (label created, picked up, in transit, out for delivery, delivered) appear within a few
hours of each carrier scan. Standard orders usually arrive {std_days} business days after shipping.

## Late or missing parcels
If tracking has not moved for 5 business days, or the parcel shows delivered but you cannot find it
after 48 hours, contact us with the order number and we will open a carrier trace or send a replacement.
""",
    ),
    (
        "cancellations",
        "Cancelling an order",
        """# Cancelling an order

## While the order is processing
You can cancel free of charge while the order status is **processing**. Most orders move to shipped
within one business day, so cancel quickly. Cancellations made within {cancel_hours} hour of ordering are instant.

## After it has shipped
Once shipped an order cannot be cancelled; you can refuse delivery or return it under the
{return_days}-day returns policy.

## Partial cancellations
You may cancel individual items of a processing order; the free-shipping threshold of ${free_ship} is
rechecked and standard shipping may then apply.
""",
    ),
    (
        "gift_cards",
        "Gift cards",
        """# Gift cards

## Buying
Digital gift cards are available from $10 to $500 and are delivered by email within minutes.

## Using
Gift cards never expire and have no fees. They can be combined with one other payment method.
Balances can be checked on the gift card page or by asking the assistant.

## Refunds and lost cards
Gift cards cannot be returned or exchanged for cash except where the law requires it. If a card is
lost or stolen, contact {email} with the purchase receipt and we will freeze the remaining balance.
""",
    ),
)


def make_policies() -> list[Policy]:
    return [
        Policy(id=topic, title=title, text=text.format(**TERMS).strip() + "\n", topic=topic)
        for topic, title, text in _DOCS
    ]

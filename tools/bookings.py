"""`make bookings`: the booking requests in the records database, newest first, with delivery state."""

from __future__ import annotations

from sqlalchemy import select

from actions import records


def main() -> int:
    with records.session() as db:
        bookings = records.bookings(db)
        deliveries = {m.idempotency_key: m for m in db.scalars(select(records.OutboxMessage))}
    if not bookings:
        print(f"No booking requests yet ({records.database_url()}).")
        return 0
    for b in bookings:
        delivery = deliveries.get(b.reference)
        state = b.status if delivery is None else f"{delivery.status} after {delivery.attempts} attempt(s)"
        if delivery is not None and delivery.last_error:
            state += f" (last error: {delivery.last_error[:60]})"
        flags = " NEEDS STAFF" if b.needs_staff else ""
        print(
            f"{b.reference}  {b.created_at:%Y-%m-%d %H:%M}  {b.name} {b.phone}  {b.kind}  "
            f"screen: {b.screening_outcome or 'not done'}  wants: {b.window_start:%a %d %b %H:%M}  "
            f"delivery: {state}{flags}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

import { linearFlow, load, MemoryBackend, task } from "taskflow-ts";

const book = task({
  name: "book",
  requires: ["guest"],
  provides: "booking",
  execute: ({ guest }: { guest: string }) => ({ id: "B-1", guest }),
  revert: ({ guest }: { guest: string }) => console.log(`cancelled ${guest}'s booking`),
});
const pay = task({
  name: "pay",
  requires: ["booking", "price"],
  provides: "receipt",
  execute: ({ booking, price }: { booking: { id: string }; price: number }) => `paid ${price} for ${booking.id}`,
});

const backend = new MemoryBackend(); // or IndexedDB in a page, a Durable Object at the edge
const engine = load(linearFlow("trip", book, pay), { backend, store: { guest: "ada", price: 90 } });
await engine.run();
const receipt: string = engine.storage.fetch("receipt"); // typed by pay's execute
console.log(receipt); // "paid 90 for B-1"
// Later, even in another process: resume the same flow detail from the log book.
const again = load(linearFlow("trip", book, pay), { backend, flowDetailId: engine.flowDetailId });
await again.run(); // nothing runs twice: both atoms are already SUCCESS

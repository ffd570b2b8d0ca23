/** The demo catalog seeded into an empty store when SEED_DEMO_CATALOG is on (embedded runs by default). */
import type { NewProductFields } from "./products";

const usd = (price: number) => ({ price, currency: "USD" as const, active: true });

export const DEMO_PRODUCTS: NewProductFields[] = [
	// books
	{
		name: "The Pragmatic Programmer",
		description: "20th anniversary edition of the classic guide to software craftsmanship.",
		category: "books",
		stock: 40,
		...usd(4299),
	},
	{
		name: "Designing Data-Intensive Applications",
		description: "The big ideas behind reliable, scalable and maintainable systems.",
		category: "books",
		stock: 35,
		...usd(4999),
	},
	{ name: "Clean Architecture", description: "A craftsman's guide to software structure and design.", category: "books", stock: 25, ...usd(3499) },
	{ name: "The Joy of Cooking", description: "Over 4,000 recipes, fully revised and updated hardcover edition.", category: "books", stock: 18, ...usd(3750) },
	{
		name: "Sapiens: A Brief History of Humankind",
		description: "Paperback. How Homo sapiens came to rule the world.",
		category: "books",
		stock: 60,
		...usd(1899),
	},

	// electronics
	{
		name: "Wireless Noise-Cancelling Headphones",
		description: "Over-ear, Bluetooth 5.3, 30-hour battery, USB-C fast charging.",
		category: "electronics",
		stock: 30,
		...usd(19999),
	},
	{
		name: "Mechanical Keyboard",
		description: "Tenkeyless, hot-swappable brown switches, PBT keycaps, white backlight.",
		category: "electronics",
		stock: 22,
		...usd(8950),
	},
	{
		name: "27-inch 4K Monitor",
		description: "IPS panel, 60 Hz, USB-C with 65 W power delivery, height-adjustable stand.",
		category: "electronics",
		stock: 12,
		...usd(32900),
	},
	{
		name: "Portable SSD 1 TB",
		description: "USB 3.2 Gen 2, up to 1,050 MB/s, shock-resistant aluminium case.",
		category: "electronics",
		stock: 75,
		...usd(10999),
	},
	{
		name: "Smart LED Bulb (4-pack)",
		description: "E26, tunable white and colour, works with voice assistants, no hub needed.",
		category: "electronics",
		stock: 90,
		...usd(3999),
	},

	// home
	{ name: "Cast Iron Skillet 12-inch", description: "Pre-seasoned cast iron pan for stovetop, oven and campfire.", category: "home", stock: 45, ...usd(3495) },
	{
		name: "French Press Coffee Maker",
		description: "1 litre borosilicate glass carafe with stainless steel filter.",
		category: "home",
		stock: 55,
		...usd(2899),
	},
	{ name: "Linen Duvet Cover, Queen", description: "Stone-washed European flax linen with coconut-shell buttons.", category: "home", stock: 20, ...usd(15900) },
	{ name: "Chef's Knife 8-inch", description: "High-carbon stainless steel blade, full tang, walnut handle.", category: "home", stock: 28, ...usd(7900) },
	{ name: "Scented Soy Candle", description: "Cedarwood and sage, hand-poured, about 50 hours of burn time.", category: "home", stock: 100, ...usd(2400) },

	// garden
	{
		name: "Ergonomic Pruning Shears",
		description: "Bypass pruners with a rotating handle and SK-5 steel blades.",
		category: "garden",
		stock: 65,
		...usd(2699),
	},
	{
		name: "Expandable Garden Hose 50 ft",
		description: "Lightweight hose with a 10-pattern spray nozzle and brass fittings.",
		category: "garden",
		stock: 38,
		...usd(4599),
	},
	{ name: "Raised Garden Bed Kit", description: "Galvanised steel bed, 8 × 4 × 1 ft, tool-free assembly.", category: "garden", stock: 14, ...usd(11900) },
	{
		name: "Heirloom Tomato Seed Collection",
		description: "Ten non-GMO varieties, including Brandywine and Cherokee Purple.",
		category: "garden",
		stock: 85,
		...usd(1499),
	},
	{
		name: "Solar Path Lights (8-pack)",
		description: "Warm white LED stake lights, weatherproof, dusk-to-dawn sensor.",
		category: "garden",
		stock: 50,
		...usd(3999),
	},
];

/**
 * What the whole console shares: the session (token and user, kept in localStorage so a
 * reload stays signed in), the cart (kept the same way) and the unread notification count.
 */
import { createContext, type ComponentChildren } from "preact";
import { useCallback, useContext, useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, setToken, type Inbox, type Product, type User } from "./api";
import { useApi } from "./hooks";

export type Session = { token: string; user: User };
export type CartLine = { productId: string; name: string; price: number; currency: string; quantity: number };

type AppState = {
	session: Session | null;
	signIn(session: Session): void;
	signOut(): void;
	cart: CartLine[];
	addToCart(product: Product, quantity: number): void;
	setQuantity(productId: string, quantity: number): void;
	clearCart(): void;
	unread: number;
	refreshUnread(): void;
};

const SESSION_KEY = "shop.session";
const CART_KEY = "shop.cart";

function stored<T>(key: string, fallback: T): T {
	try {
		const text = localStorage.getItem(key);
		return text ? (JSON.parse(text) as T) : fallback;
	} catch {
		return fallback;
	}
}

function store(key: string, value: unknown): void {
	if (value === null) localStorage.removeItem(key);
	else localStorage.setItem(key, JSON.stringify(value));
}

const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
	const state = useContext(AppContext);
	if (!state) throw new Error("useApp outside <AppProvider>");
	return state;
}

const initialSession = stored<Session | null>(SESSION_KEY, null);
setToken(initialSession?.token ?? null);

export function AppProvider({ children }: { children: ComponentChildren }) {
	const [session, setSession] = useState<Session | null>(initialSession);
	const [cart, setCart] = useState<CartLine[]>(() => stored<CartLine[]>(CART_KEY, []));
	const inbox = useApi<Inbox>(session ? "/api/notifications?pageSize=1" : null, 4000);

	useEffect(() => store(CART_KEY, cart), [cart]);

	const signIn = useCallback((next: Session) => {
		setToken(next.token);
		store(SESSION_KEY, next);
		setSession(next);
	}, []);
	const signOut = useCallback(() => {
		setToken(null);
		store(SESSION_KEY, null);
		setSession(null);
	}, []);

	// A token the API no longer accepts (expired, or the password changed) ends the session.
	useEffect(() => {
		if (inbox.error instanceof ApiError && inbox.error.status === 401) signOut();
	}, [inbox.error, signOut]);

	const value = useMemo<AppState>(
		() => ({
			session,
			signIn,
			signOut,
			cart,
			addToCart(product, quantity) {
				setCart(lines => {
					const line = lines.find(l => l.productId === product.id);
					if (line) return lines.map(l => (l === line ? { ...l, quantity: l.quantity + quantity } : l));
					return [...lines, { productId: product.id, name: product.name, price: product.price, currency: product.currency, quantity }];
				});
			},
			setQuantity(productId, quantity) {
				setCart(lines => (quantity <= 0 ? lines.filter(l => l.productId !== productId) : lines.map(l => (l.productId === productId ? { ...l, quantity } : l))));
			},
			clearCart: () => setCart([]),
			unread: inbox.data?.unread ?? 0,
			refreshUnread: inbox.reload,
		}),
		[session, signIn, signOut, cart, inbox.data, inbox.reload],
	);
	return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}

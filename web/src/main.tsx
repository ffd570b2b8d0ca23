/**
 * The web console: the storefront for everyone, and the operator views for admins. One
 * page; the hash names the view.
 */
import { render } from "preact";
import { useEffect, useRef } from "preact/hooks";
import "./app.css";
import { Analytics } from "./admin/analytics";
import { ClusterMap } from "./admin/cluster";
import { DeadLetters } from "./admin/dead-letters";
import { OrdersBoard } from "./admin/orders-board";
import { ProductsAdmin } from "./admin/products-admin";
import { Promotions } from "./admin/promotions";
import { match, navigate, useRoute } from "./router";
import { AuthForm } from "./shop/auth";
import { Cart } from "./shop/cart";
import { Inbox } from "./shop/inbox";
import { MyOrders } from "./shop/orders";
import { ProductList, ProductPage } from "./shop/products";
import { AppProvider, useApp } from "./state";

const ADMIN_VIEWS = [
	["cluster", "Cluster", ClusterMap],
	["analytics", "Analytics", Analytics],
	["orders", "Orders", OrdersBoard],
	["products", "Products", ProductsAdmin],
	["promotions", "Promotions", Promotions],
	["dead-letters", "Dead letters", DeadLetters],
] as const;

function nextOf(path: string): string {
	return new URLSearchParams(path.split("?")[1] ?? "").get("next") || "/";
}

function View({ path }: { path: string }) {
	const { session } = useApp();
	const [pathname] = path.split("?");
	if (pathname === "/") return <ProductList />;
	const product = match("/product/:id", path);
	if (product) return <ProductPage id={product.id} />;
	if (pathname === "/cart") return <Cart />;
	if (pathname === "/login") return <AuthForm key="login" mode="login" next={nextOf(path)} />;
	if (pathname === "/signup") return <AuthForm key="signup" mode="signup" next={nextOf(path)} />;

	const needsSession = pathname === "/orders" || pathname === "/notifications" || pathname.startsWith("/admin/");
	if (needsSession && !session) {
		return (
			<p>
				Please <a href={`#/login?next=${encodeURIComponent(pathname)}`}>log in</a> first.
			</p>
		);
	}
	if (pathname === "/orders") return <MyOrders />;
	if (pathname === "/notifications") return <Inbox />;
	const admin = match("/admin/:view", path);
	if (admin) {
		if (session?.user.role !== "admin") return <p>This view is for operators (admin accounts).</p>;
		const view = ADMIN_VIEWS.find(([name]) => name === admin.view);
		if (view) {
			const Component = view[2];
			return <Component />;
		}
	}
	return (
		<p>
			There is no such page. <a href="#/">Go to the products</a>.
		</p>
	);
}

function Shell() {
	const path = useRoute();
	const { session, signOut, cart, unread } = useApp();
	const main = useRef<HTMLElement>(null);
	const items = cart.reduce((n, line) => n + line.quantity, 0);
	const here = (href: string) => (path.split("?")[0] === href ? "page" : undefined);

	// A new view moves the focus to it, as a page load would, for keyboard and screen-reader
	// users; the first view leaves the focus at the top of the page, at the skip link.
	const firstView = useRef(true);
	useEffect(() => {
		if (firstView.current) {
			firstView.current = false;
			return;
		}
		main.current?.focus();
		window.scrollTo(0, 0);
	}, [path]);

	return (
		<>
			<a class="skip" href="#main" onClick={e => (e.preventDefault(), main.current?.focus())}>
				Skip to content
			</a>
			<header class="top">
				<a class="brand" href="#/">
					Moleculer shop
				</a>
				<nav aria-label="Shop">
					<a href="#/" aria-current={here("/")}>
						Products
					</a>
					<a href="#/cart" aria-current={here("/cart")}>
						Cart{" "}
						<span class="count" aria-label={`${items} ${items === 1 ? "item" : "items"}`}>
							{items}
						</span>
					</a>
					{session && (
						<>
							<a href="#/orders" aria-current={here("/orders")}>
								Orders
							</a>
							<a href="#/notifications" aria-current={here("/notifications")}>
								Inbox{" "}
								<span class={`count ${unread ? "unread" : ""}`} data-testid="unread" aria-label={`${unread} unread`}>
									{unread}
								</span>
							</a>
						</>
					)}
				</nav>
				<div class="account">
					{session ? (
						<>
							<span class="muted">{session.user.name}</span>
							<button
								type="button"
								class="link"
								onClick={() => {
									signOut();
									navigate("/");
								}}
							>
								Log out
							</button>
						</>
					) : (
						<>
							<a href="#/login">Log in</a>
							<a href="#/signup">Sign up</a>
						</>
					)}
				</div>
			</header>
			{session?.user.role === "admin" && (
				<nav class="operator" aria-label="Operator">
					<span class="muted">Operator:</span>
					{ADMIN_VIEWS.map(([name, label]) => (
						<a key={name} href={`#/admin/${name}`} aria-current={here(`/admin/${name}`)}>
							{label}
						</a>
					))}
				</nav>
			)}
			<main id="main" ref={main} tabIndex={-1}>
				<View path={path} />
			</main>
		</>
	);
}

render(
	<AppProvider>
		<Shell />
	</AppProvider>,
	document.getElementById("app") as HTMLElement,
);

/**
 * Two small charts, drawn here: columns over days, and horizontal bars for a ranking. The
 * bars are SVG stretched to their box; the labels are text of the page, so they keep a
 * readable size from a phone to a wide screen.
 */

export type Point = { label: string; value: number };

/** Columns, one per point (a day), with the largest value and the first and last labels on the axes. */
export function ColumnChart({ title, points, format }: { title: string; points: Point[]; format: (value: number) => string }) {
	const max = Math.max(1, ...points.map(p => p.value));
	const total = points.reduce((sum, p) => sum + p.value, 0);
	const slot = 10;
	return (
		<figure class="chart">
			<div class="column-chart">
				<div class="y-axis" aria-hidden="true">
					<span>{format(max)}</span>
					<span>{format(0)}</span>
				</div>
				<svg
					class="plot"
					viewBox={`0 0 ${Math.max(1, points.length) * slot} 100`}
					preserveAspectRatio="none"
					role="img"
					aria-label={`${title}: ${format(total)} in all, at most ${format(max)} on one day`}
				>
					{points.map((p, i) => {
						const h = (p.value / max) * 100;
						return (
							<rect key={p.label} class="bar" x={i * slot + 1.5} y={100 - h} width={slot - 3} height={h}>
								<title>
									{p.label}: {format(p.value)}
								</title>
							</rect>
						);
					})}
				</svg>
				{points.length > 0 && (
					<div class="x-axis" aria-hidden="true">
						<span>{points[0].label}</span>
						<span>{points[points.length - 1].label}</span>
					</div>
				)}
			</div>
			<figcaption>{title}</figcaption>
		</figure>
	);
}

/** Horizontal bars, largest first, each with its name and value. */
export function BarList({ title, points, format }: { title: string; points: Point[]; format: (value: number) => string }) {
	const max = Math.max(1, ...points.map(p => p.value));
	return (
		<figure class="chart">
			{points.length === 0 ? (
				<p class="muted">Nothing sold yet.</p>
			) : (
				<ol class="bar-list" aria-label={title}>
					{points.map(p => (
						<li key={p.label}>
							<span class="name">{p.label}</span>
							<svg class="track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
								<rect class="bar" x={0} y={0} width={(100 * p.value) / max} height={10} />
							</svg>
							<span class="value">{format(p.value)}</span>
						</li>
					))}
				</ol>
			)}
			<figcaption>{title}</figcaption>
		</figure>
	);
}

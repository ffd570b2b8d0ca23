/** Two small SVG charts, drawn here: columns over days, and horizontal bars for a ranking. */

export type Point = { label: string; value: number };

/** Columns, one per point (a day), with the largest value and the first and last labels on the axes. */
export function ColumnChart({ title, points, format, compact = false }: { title: string; points: Point[]; format: (value: number) => string; compact?: boolean }) {
	// A compact chart is drawn smaller, so that its labels keep their size in a narrow column.
	const width = compact ? 360 : 640;
	const height = compact ? 150 : 200;
	const pad = { top: 12, right: 8, bottom: 24, left: 56 };
	const max = Math.max(1, ...points.map(p => p.value));
	const plotW = width - pad.left - pad.right;
	const plotH = height - pad.top - pad.bottom;
	const step = plotW / Math.max(1, points.length);
	const barW = Math.max(1, step * 0.7);
	const total = points.reduce((sum, p) => sum + p.value, 0);
	return (
		<figure class="chart">
			<svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${format(total)} in all, at most ${format(max)} on one day`}>
				<line x1={pad.left} y1={pad.top + plotH} x2={width - pad.right} y2={pad.top + plotH} class="axis" />
				<line x1={pad.left} y1={pad.top} x2={width - pad.right} y2={pad.top} class="grid" />
				<text x={pad.left - 6} y={pad.top + 4} text-anchor="end" class="tick">
					{format(max)}
				</text>
				<text x={pad.left - 6} y={pad.top + plotH} text-anchor="end" class="tick">
					{format(0)}
				</text>
				{points.map((p, i) => {
					const h = (p.value / max) * plotH;
					return (
						<rect key={p.label} class="bar" x={pad.left + i * step + (step - barW) / 2} y={pad.top + plotH - h} width={barW} height={h}>
							<title>
								{p.label}: {format(p.value)}
							</title>
						</rect>
					);
				})}
				{points.length > 0 && (
					<>
						<text x={pad.left} y={height - 6} class="tick">
							{points[0].label}
						</text>
						<text x={width - pad.right} y={height - 6} text-anchor="end" class="tick">
							{points[points.length - 1].label}
						</text>
					</>
				)}
			</svg>
			<figcaption>{title}</figcaption>
		</figure>
	);
}

/** Horizontal bars, largest first, each labelled with its name and value. */
export function BarList({ title, points, format }: { title: string; points: Point[]; format: (value: number) => string }) {
	const max = Math.max(1, ...points.map(p => p.value));
	const rowH = 24;
	const width = 960;
	const labelW = 240;
	return (
		<figure class="chart">
			{points.length === 0 ? (
				<p class="muted">Nothing sold yet.</p>
			) : (
				<svg viewBox={`0 0 ${width} ${points.length * rowH}`} role="img" aria-label={`${title}: ${points.map(p => `${p.label} ${format(p.value)}`).join(", ")}`}>
					{points.map((p, i) => {
						const w = ((width - labelW - 90) * p.value) / max;
						return (
							<g key={p.label} transform={`translate(0 ${i * rowH})`}>
								<text x={labelW - 8} y={rowH / 2 + 5} text-anchor="end" class="label">
									{p.label.length > 28 ? `${p.label.slice(0, 27)}…` : p.label}
								</text>
								<rect class="bar" x={labelW} y={4} width={Math.max(1, w)} height={rowH - 8} />
								<text x={labelW + w + 6} y={rowH / 2 + 5} class="tick">
									{format(p.value)}
								</text>
							</g>
						);
					})}
				</svg>
			)}
			<figcaption>{title}</figcaption>
		</figure>
	);
}

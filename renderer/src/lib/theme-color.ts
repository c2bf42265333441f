// A theme colour for canvas drawing (chart.js): global.css writes each colour once as light-dark(light, dark),
// and a custom property reads back as that unresolved text, which a canvas cannot use. A probe element whose
// `color` is the variable resolves it to rgb() for the scheme in force.
let probe: HTMLElement | null = null;

export function themeColor(name: string, fallback: string): string {
  if (typeof document === 'undefined' || !document.body) return fallback;
  if (probe === null || !probe.isConnected) {
    probe = document.createElement('span');
    probe.setAttribute('aria-hidden', 'true');
    probe.style.display = 'none';
    document.body.appendChild(probe);
  }
  probe.style.color = '';
  probe.style.color = `var(${name}, ${fallback})`;
  return getComputedStyle(probe).color || fallback;
}

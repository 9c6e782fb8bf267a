// The icons of the states and flags, drawn as inline SVG (no icon font, no image file):
// each is a few strokes on a 24-unit grid, in the text's colour.

const PATHS = {
  idle: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18", "M8 12.5l3 3l5-6"],
  ringing: ["M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z", "M10 20.5a2 2 0 0 0 4 0"],
  talking: ["M5 4h4l2 5l-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z"],
  wrapup: ["M4 20h4L19 9l-4-4L4 16z", "M13 7l4 4"],
  busy: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18", "M7 12h10"],
  rest: ["M5 9h11v4a5 5 0 0 1-5 5h-1a5 5 0 0 1-5-5z", "M16 10.5h1.5a2 2 0 0 1 0 4H16", "M8 3.5v2.5M12 3.5v2.5"],
  study: ["M4 5.5A2.5 2.5 0 0 1 6.5 3H20v15H6.5A2.5 2.5 0 0 0 4 20.5z", "M4 20.5V5.5", "M9 7.5h7"],
  signedout: ["M12 3v8", "M7 6.5a8 8 0 1 0 10 0"],
  unknown: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18", "M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .9-1 1.7", "M12 17v.5"],
  warning: ["M12 3l10 18H2z", "M12 10v5", "M12 18v.5"],
  alert: ["M8 2.5h8l5.5 5.5v8L16 21.5H8L2.5 16V8z", "M12 7.5v6", "M12 16.5v.5"],
};

const SVG = "http://www.w3.org/2000/svg";

export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", `icon icon-${name}`);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of PATHS[name] || PATHS.unknown) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

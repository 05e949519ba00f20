// The search page's snippets come from each page's HTML before MathJax runs: turn the
// TeX of its math into plain text ("KL(p̂_n ‖ p_θ) ≥ 0") before Sphinx cuts a snippet
// out of it. Added to search.html only, by _ext/book_site.py.
"use strict";
(() => {
  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε",
    zeta: "ζ", eta: "η", theta: "θ", vartheta: "ϑ", iota: "ι", kappa: "κ", lambda: "λ",
    mu: "μ", nu: "ν", xi: "ξ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", phi: "φ",
    varphi: "φ", chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ",
    Lambda: "Λ", Xi: "Ξ", Pi: "Π", Sigma: "Σ", Phi: "Φ", Psi: "Ψ", Omega: "Ω",
    ge: "≥", geq: "≥", le: "≤", leq: "≤", ne: "≠", neq: "≠", approx: "≈", sim: "∼",
    equiv: "≡", infty: "∞", in: "∈", notin: "∉", subset: "⊂", subseteq: "⊆", cup: "∪",
    cap: "∩", sum: "∑", prod: "∏", int: "∫", partial: "∂", nabla: "∇", cdot: "·",
    times: "×", to: "→", rightarrow: "→", mapsto: "↦", implies: "⇒", iff: "⇔",
    mid: "|", ll: "≪", gg: "≫", ldots: "…", dots: "…", cdots: "⋯", pm: "±",
    forall: "∀", exists: "∃", propto: "∝", top: "⊤", circ: "∘", ell: "ℓ",
    E: "𝔼", R: "ℝ", P: "ℙ", simplex: "Δ", dd: "d", Hce: "H_ce", lvert: "|", rvert: "|",
  };
  const ACCENTS = { hat: "\u0302", widehat: "\u0302", bar: "\u0304", overline: "\u0304",
                    tilde: "\u0303", widetilde: "\u0303", dot: "\u0307", vec: "\u20d7" };
  const DROP = /\\(left|right|big|Big|bigg|Bigg|bigl|bigr|Bigl|Bigr|middle|displaystyle|limits|nolimits|notag|nonumber)\b/g;

  const texToText = (tex) => {
    let s = tex.replace(/^\s*(\\\(|\\\[|\$\$)|(\\\)|\\\]|\$\$)\s*$/g, "");
    s = s.replace(/\\(begin|end)\{[^}]*\}/g, " ").replace(/\\\\/g, "; ").replace(/&/g, "");
    s = s.replace(DROP, "");
    s = s.replace(/\\KL\{([^{}]*)\}\{([^{}]*)\}/g, "KL($1 ‖ $2)");
    s = s.replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g, "($1)/($2)");
    s = s.replace(/\\(hat|widehat|bar|overline|tilde|widetilde|dot|vec)\s*\{([^{}])\}/g,
                  (m, a, c) => c + ACCENTS[a]);
    s = s.replace(/\\(hat|widehat|bar|overline|tilde|widetilde|dot|vec)\s*([A-Za-z])/g,
                  (m, a, c) => c + ACCENTS[a]);
    s = s.replace(/\\(mathrm|mathbf|mathit|mathcal|mathscr|mathbb|operatorname\*?|text|textrm|textbf|boldsymbol)\s*\{([^{}]*)\}/g, "$2");
    s = s.replace(/\\[,;:! ]|\\q?quad\b|~/g, " ").replace(/\\\|/g, "‖");
    s = s.replace(/\\([A-Za-z]+)/g, (m, name) => SYMBOLS[name] ?? name);
    s = s.replace(/\\([{}_%#$])/g, "$1").replace(/[{}]/g, "").replace(/\\/g, "");
    return s.replace(/\s+/g, " ").trim();
  };

  const patch = () => {
    if (typeof Search === "undefined" || Search.htmlToText.plainMath) return;
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach((el) => {
        el.querySelectorAll(".headerlink").forEach((link) => link.remove());
        const number = el.querySelector(".eqno");
        const label = number ? ` ${number.textContent.trim()}` : "";
        if (number) number.remove();
        el.textContent = ` ${texToText(el.textContent)}${label} `;
      });
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
    Search.htmlToText.plainMath = true;
  };
  patch();
  document.addEventListener("DOMContentLoaded", patch);
})();

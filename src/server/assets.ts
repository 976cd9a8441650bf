/** The server's only static assets, served same-origin so the CSP can forbid everything else. */

export const STYLESHEET = `
:root{--bg:#0f1210;--panel:#181c19;--panel2:#202622;--text:#f2f5f3;--muted:#b3beb7;--accent:#1ed760;--accent-ink:#04130a;--warn:#ffb86b;--bad:#ff8080;--radius:14px}
*{box-sizing:border-box}
html{font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--text)}
body{margin:0;min-height:100vh;display:flex;flex-direction:column}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,summary:focus-visible{outline:3px solid #fff;outline-offset:3px;border-radius:6px}
header.top{display:flex;align-items:center;justify-content:space-between;gap:1rem;padding:1rem clamp(1rem,4vw,2.5rem);border-bottom:1px solid #ffffff14}
.brand{font-weight:700;letter-spacing:.02em;font-size:1.1rem;color:var(--text);text-decoration:none}
.brand span{color:var(--accent)}
.badge{font-size:.75rem;padding:.2rem .55rem;border-radius:999px;background:#ffb86b22;color:var(--warn);border:1px solid #ffb86b55}
main{width:min(960px,100%);margin:0 auto;padding:clamp(1rem,4vw,2.5rem);flex:1}
h1{font-size:clamp(1.6rem,4vw,2.3rem);line-height:1.2;margin:.2rem 0 1rem}
h2{font-size:1.15rem;margin:0 0 .75rem}
p.lead{color:var(--muted);font-size:1.08rem;max-width:46rem}
.card{background:var(--panel);border-radius:var(--radius);padding:1.25rem 1.4rem;margin:1rem 0;border:1px solid #ffffff10}
.grid{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(260px,1fr))}
.button,button{display:inline-flex;align-items:center;gap:.5rem;font:inherit;font-weight:650;border:0;border-radius:999px;padding:.7rem 1.35rem;cursor:pointer;text-decoration:none;background:var(--accent);color:var(--accent-ink)}
button.secondary,.button.secondary{background:var(--panel2);color:var(--text);border:1px solid #ffffff2a}
button:disabled{opacity:.6;cursor:progress}
ul.scopes{list-style:none;padding:0;margin:.5rem 0 1rem}
ul.scopes li{padding:.45rem 0;border-bottom:1px solid #ffffff0f;display:flex;gap:.6rem}
ul.scopes li::before{content:"✓";color:var(--accent);font-weight:700}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em;background:#ffffff12;padding:.1rem .35rem;border-radius:6px}
.profile{display:flex;gap:1.25rem;align-items:center;flex-wrap:wrap}
.avatar{width:96px;height:96px;border-radius:50%;object-fit:cover;background:var(--panel2);display:grid;place-items:center;font-size:2.2rem;font-weight:700;color:var(--accent)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
ol.items{margin:0;padding-left:1.4rem}
ol.items li{padding:.25rem 0}
.muted{color:var(--muted)}
.countdown{font-variant-numeric:tabular-nums;font-weight:650}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;align-items:center}
.notice{border-left:4px solid var(--warn)}
.error{border-left:4px solid var(--bad)}
.status{min-height:1.5em}
footer{padding:1rem clamp(1rem,4vw,2.5rem);color:var(--muted);font-size:.85rem;border-top:1px solid #ffffff14}
@media (prefers-reduced-motion:no-preference){.button,button{transition:transform .08s}.button:active,button:active{transform:scale(.97)}}
`;

/** Counts the access token's lifetime down, and drives "Refresh now" without a page reload. */
export const SCRIPT = `
(() => {
  const el = document.querySelector('[data-expires-at]');
  const tick = () => {
    if (!el) return;
    const left = Math.max(0, Math.round((Number(el.dataset.expiresAt) - Date.now()) / 1000));
    el.textContent = left > 0 ? Math.floor(left / 60) + ' min ' + String(left % 60).padStart(2, '0') + ' s' : 'expired (refreshed on next use)';
  };
  tick();
  setInterval(tick, 1000);
  const button = document.querySelector('#refresh-now');
  const status = document.querySelector('#refresh-status');
  if (button && status) {
    button.addEventListener('click', async (event) => {
      event.preventDefault();
      button.disabled = true;
      status.textContent = 'Refreshing…';
      try {
        const response = await fetch('/refresh_token', {
          method: 'POST',
          headers: { 'x-csrf-token': button.dataset.csrf, 'content-type': 'application/json' },
          body: '{}',
          credentials: 'same-origin',
        });
        const body = await response.json();
        if (!response.ok) throw new Error(body.message || 'Refresh failed');
        if (el) el.dataset.expiresAt = String(Date.parse(body.expires_at));
        tick();
        status.textContent = 'Refreshed at ' + new Date().toLocaleTimeString() + '.';
      } catch (error) {
        status.textContent = error.message;
      } finally {
        button.disabled = false;
      }
    });
  }
})();
`;

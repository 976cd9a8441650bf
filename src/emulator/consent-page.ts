import type { ServerResponse } from 'node:http';
import { escapeHtml } from './http.js';
import { sendPage } from './page.js';
import { formActionSource } from './redirect-uri.js';
import { describeScope } from './scopes.js';
import type { PendingAuthorization } from './state.js';
import type { EmulatorApp, EmulatorUser } from './types.js';

export const DECISION_PATH = '/authorize/decision';

/**
 * The emulator's stand-in for Spotify's login + consent screens: pick a seeded user instead of typing a
 * password, then Agree or Cancel. The form carries only the pending-request id and a CSRF token; everything
 * the app asked for stays server-side so it cannot be altered on the way back.
 */
export function sendConsentPage(
  res: ServerResponse,
  app: EmulatorApp,
  pending: PendingAuthorization,
  users: EmulatorUser[],
  selectedUserId: string | undefined,
): void {
  const appName = escapeHtml(app.name ?? app.clientId);
  const selected = users.some((u) => u.id === selectedUserId) ? selectedUserId : users[0]?.id;
  const userOptions = users
    .map((user, i) => {
      const id = `user-${i}`;
      const checked = user.id === selected ? ' checked' : '';
      const email = user.email ? ` <span class="note">${escapeHtml(user.email)}</span>` : '';
      return `<label for="${id}"><input type="radio" id="${id}" name="user" value="${escapeHtml(user.id)}"${checked} required> ${escapeHtml(user.displayName)} (<code>${escapeHtml(user.id)}</code>)${email}</label>`;
    })
    .join('\n');
  const scopeItems =
    pending.scopes.length === 0
      ? '<li>See your public profile information (no scopes requested)</li>'
      : pending.scopes
          .map(
            (s) =>
              `<li>${escapeHtml(describeScope(s))} <span class="note">(<code>${escapeHtml(s)}</code>)</span></li>`,
          )
          .join('\n');
  let target = pending.redirectUri;
  try {
    target = new URL(pending.redirectUri).host || pending.redirectUri;
  } catch {}
  const body = `<h1>${appName} wants to connect to your Spotify account</h1>
<p class="note">This is the spotauth <strong>Spotify emulator</strong>, not Spotify. No password is needed: choose a test user.</p>
<form method="post" action="${DECISION_PATH}">
<input type="hidden" name="request_id" value="${escapeHtml(pending.id)}">
<input type="hidden" name="csrf" value="${escapeHtml(pending.csrf)}">
<fieldset>
<legend>Log in as</legend>
${userOptions}
</fieldset>
<h2>It will be able to:</h2>
<ul>
${scopeItems}
</ul>
<p class="note">You will be sent back to <code>${escapeHtml(target)}</code>.</p>
<div class="actions">
<button type="submit" class="agree" name="decision" value="agree">Agree</button>
<button type="submit" class="cancel" name="decision" value="cancel" formnovalidate>Cancel</button>
</div>
</form>`;
  sendPage(res, 'Authorize - Spotify Accounts (emulator)', body, {
    formAction: [formActionSource(pending.redirectUri)],
  });
}

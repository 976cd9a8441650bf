// A plain form: logging out works without JavaScript, and the CSRF token travels as a form field.
export function LogoutForm({ csrfToken }: { csrfToken: string }) {
  return (
    <form method="post" action="/auth/spotify/logout">
      <input type="hidden" name="csrf" value={csrfToken} />
      <button type="submit">Log out</button>
    </form>
  );
}

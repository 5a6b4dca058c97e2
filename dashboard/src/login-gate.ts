// The sign-in form in front of the screen when the hub requires a login (AUTH_REQUIRED). The
// session lives in an httpOnly cookie the page cannot read: no token or password is kept here.
import { HttpError, login, type SessionUser } from './api-client.js';
import { t } from './i18n.js';

export function askForLogin(el: HTMLElement, notice: string | null = null): Promise<SessionUser> {
  el.hidden = false;
  const form = el.querySelector('form') as HTMLFormElement;
  const error = el.querySelector('.login-error') as HTMLElement;
  const user = form.elements.namedItem('username') as HTMLInputElement;
  const pass = form.elements.namedItem('password') as HTMLInputElement;
  error.textContent = notice ?? '';
  user.focus();
  return new Promise((resolve) => {
    const submit = async (e: SubmitEvent): Promise<void> => {
      e.preventDefault();
      error.textContent = '';
      try {
        const u = await login(user.value.trim(), pass.value);
        pass.value = '';
        form.removeEventListener('submit', onSubmit);
        el.hidden = true;
        resolve(u);
      } catch (err) {
        pass.value = '';
        error.textContent =
          err instanceof HttpError && err.status === 401 ? t('loginFailed') : err instanceof Error ? err.message : String(err);
      }
    };
    const onSubmit = (e: SubmitEvent): void => void submit(e);
    form.addEventListener('submit', onSubmit);
  });
}

// Sign-in page (#/signin?next=/path&expired=1). POST /api/v1/session; on success
// the shell's user is set and the browser returns to `next` (the page the user
// was on when the session expired or that needed a sign-in), else home.
import { ApiError, signIn } from '../api.js';
import { addMessages, t } from '../i18n.js';
import { href, matchRoute, registerPage } from '../router.js';
import { getUser, setUser } from '../session.js';
import { banner, el, form, formRow, link, mount, pageHeader, showError } from '../ui.js';

addMessages({
  zh: {
    'signin.title': '登录',
    'signin.intro': '使用您所在单位分配的账号登录仪器共享平台。',
    'signin.login': '用户名',
    'signin.password': '密码',
    'signin.submit': '登录',
    'signin.invalid': '用户名或密码错误。',
    'signin.throttled': '登录失败次数过多，请稍后再试。',
    'signin.already': '您已以 {name} 的身份登录。',
    'signin.continue': '继续',
    'signin.browse': '无需登录即可浏览公开的仪器目录。',
  },
  en: {
    'signin.title': 'Sign in',
    'signin.intro': 'Sign in with the account your institution gave you.',
    'signin.login': 'Login',
    'signin.password': 'Password',
    'signin.submit': 'Sign in',
    'signin.invalid': 'Wrong login or password.',
    'signin.throttled': 'Too many attempts, try again later.',
    'signin.already': 'You are signed in as {name}.',
    'signin.continue': 'Continue',
    'signin.browse': 'The public instrument catalogue is open without signing in.',
  },
});

/** Only same-app hash paths are accepted as a return target. */
function safeNext(next) {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/signin') ? next : '/';
}

function goTo(next, navigate) {
  const target = safeNext(next);
  const i = target.indexOf('?');
  const path = i < 0 ? target : target.slice(0, i);
  const query = i < 0 ? undefined : Object.fromEntries(new URLSearchParams(target.slice(i + 1)));
  navigate(path, query, { replace: true });
}

registerPage({
  path: '/signin',
  titleKey: 'signin.title',
  roles: null,
  nav: null,
  render(container, _params, { query, navigate }) {
    const user = getUser();
    if (user) {
      mount(container, pageHeader(t('signin.title')),
        el('div', { class: 'card narrow' }, el('p', null, t('signin.already', { name: user.name || user.login })),
          el('button', { type: 'button', class: 'btn btn-primary', onclick: () => goTo(query.next, navigate) }, t('signin.continue'))));
      return;
    }
    const loginRow = formRow({ label: t('signin.login'), name: 'login', autocomplete: 'username', required: true, attrs: { autocapitalize: 'none', spellcheck: 'false', maxlength: 64 } });
    const passwordRow = formRow({ label: t('signin.password'), name: 'password', type: 'password', autocomplete: 'current-password', required: true, attrs: { maxlength: 1024 } });
    const f = form({
      class: 'signin-form',
      submitLabel: t('signin.submit'),
      rows: [loginRow, passwordRow],
      onSubmit: async (values) => {
        try {
          const me = await signIn(values.login.trim(), values.password);
          setUser(me);
          goTo(query.next, navigate);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          passwordRow.control.value = '';
          if (err.status === 401) {
            showError(f, t('signin.invalid'));
            passwordRow.control.focus();
          } else if (err.status === 429) {
            const b = showError(f, t('signin.throttled'));
            if (err.message) b.append(el('span', { class: 'server-message' }, ` (${err.message})`));
          } else {
            throw err;
          }
        }
      },
    });
    mount(container,
      el('div', { class: 'signin' },
        pageHeader(t('signin.title')),
        query.expired ? banner(t('shell.expired'), 'warning') : null,
        el('div', { class: 'card narrow' }, el('p', { class: 'muted' }, t('signin.intro')), f),
        matchRoute('/catalogue') ? el('p', { class: 'muted signin-browse' }, link(href('/catalogue'), t('signin.browse'))) : null));
    loginRow.control.focus();
  },
});

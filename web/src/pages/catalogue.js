// The catalogue (#/catalogue): public search of the sharing list. A search box,
// filters with facet counts (zone, top-level class, bookable, run status, sort),
// results showing zone, owner, class, status and price, "load more" paging with
// the server's cursor, and an empty state that suggests what to try. Filters live
// in the URL so reload, back and the language toggle keep them.
import { api, getAll } from '../api.js';
import { addMessages, formatNumber, localName, t } from '../i18n.js';
import { href, registerPage } from '../router.js';
import { badge, button, el, emptyState, link, loading, mount, pageHeader, showError } from '../ui.js';
import { RUN_STATUSES, className, priceText, statusBadge } from './catalogue_common.js';

addMessages({
  zh: {
    'catalogue.title': '仪器目录',
    'catalogue.nav': '查找仪器',
    'catalogue.search': '搜索仪器',
    'catalogue.searchPlaceholder': '名称、型号、厂商或功能，中英文均可，如“质谱”或 SEM',
    'catalogue.searchButton': '搜索',
    'catalogue.filters': '筛选',
    'catalogue.zone': '片区',
    'catalogue.class': '仪器分类',
    'catalogue.org': '所属单位',
    'catalogue.anyOrg': '全部单位',
    'catalogue.all': '全部',
    'catalogue.bookableOnly': '只看可预约的仪器',
    'catalogue.runStatus': '运行状态',
    'catalogue.anyStatus': '任意状态',
    'catalogue.sort': '排序',
    'catalogue.sort.relevance': '相关度',
    'catalogue.sort.name': '名称',
    'catalogue.sort.value': '原值（高到低）',
    'catalogue.count': '共 {total} 台仪器',
    'catalogue.shown': '已显示 {shown} 台',
    'catalogue.col.name': '仪器',
    'catalogue.col.owner': '所属单位',
    'catalogue.col.class': '分类',
    'catalogue.col.status': '状态',
    'catalogue.col.price': '对外收费',
    'catalogue.empty.title': '没有找到匹配的仪器',
    'catalogue.empty.hint': '试试更短的关键词（两个字也可以），换用英文名称或型号，或去掉部分筛选条件。',
    'catalogue.empty.clear': '清除全部筛选',
    'catalogue.more': '加载更多',
    'catalogue.internalOnly': '仅本单位',
  },
  en: {
    'catalogue.title': 'Instrument catalogue',
    'catalogue.nav': 'Find instruments',
    'catalogue.search': 'Search instruments',
    'catalogue.searchPlaceholder': 'Name, model, maker or function, in Chinese or English, e.g. 质谱 or SEM',
    'catalogue.searchButton': 'Search',
    'catalogue.filters': 'Filters',
    'catalogue.zone': 'Zone',
    'catalogue.class': 'Class',
    'catalogue.org': 'Institution',
    'catalogue.anyOrg': 'All institutions',
    'catalogue.all': 'All',
    'catalogue.bookableOnly': 'Bookable instruments only',
    'catalogue.runStatus': 'Run status',
    'catalogue.anyStatus': 'Any status',
    'catalogue.sort': 'Sort by',
    'catalogue.sort.relevance': 'Relevance',
    'catalogue.sort.name': 'Name',
    'catalogue.sort.value': 'Value (highest first)',
    'catalogue.count': '{total} instruments',
    'catalogue.shown': '{shown} shown',
    'catalogue.col.name': 'Instrument',
    'catalogue.col.owner': 'Owner',
    'catalogue.col.class': 'Class',
    'catalogue.col.status': 'Status',
    'catalogue.col.price': 'Rate for others',
    'catalogue.empty.title': 'No instrument matches',
    'catalogue.empty.hint': 'Try a shorter word (two characters are enough), the English name or the model, or remove some filters.',
    'catalogue.empty.clear': 'Clear all filters',
    'catalogue.more': 'Load more',
    'catalogue.internalOnly': 'Own institution only',
  },
});

const FILTER_KEYS = ['q', 'zone', 'class', 'org', 'bookable', 'run_status', 'sort'];

// The institutions (public, GET /orgs) for the institution filter; read once per visit.
let orgsPromise = null;
function loadOrgs() {
  orgsPromise ??= getAll('orgs', { limit: 500 }).catch((err) => { orgsPromise = null; throw err; });
  return orgsPromise;
}

/** The institution filter: those of the chosen zone (and the chosen one), sorted by zone then name. */
function orgSelect(orgs, query, go) {
  const list = orgs.filter((o) => !query.zone || o.zone === query.zone || String(o.id) === query.org)
    .sort((a, b) => a.zone.localeCompare(b.zone) || localName(a).localeCompare(localName(b), 'zh-CN'));
  return el('select', { id: 'catalogue-org', onchange: (ev) => go({ org: ev.target.value }) },
    el('option', { value: '' }, t('catalogue.anyOrg')),
    list.map((o) => el('option', { value: String(o.id), selected: String(o.id) === query.org }, localName(o))));
}

function facetList(title, items, current, onPick) {
  const total = items.reduce((s, f) => s + f.count, 0);
  const entry = (code, label, count) => el('li', null,
    el('button', {
      type: 'button', class: ['facet', (current || '') === code && 'facet-active'],
      'aria-pressed': (current || '') === code ? 'true' : 'false', onclick: () => onPick(code),
    }, el('span', null, label), el('span', { class: 'facet-count num' }, formatNumber(count))));
  return el('section', { class: 'facet-group' },
    el('h3', null, title),
    el('ul', { class: 'facets' }, entry('', t('catalogue.all'), total),
      items.map((f) => entry(f.code, localName(f), f.count))));
}

function resultRow(inst) {
  return el('li', { class: 'result', dataset: { id: inst.id } },
    el('div', { class: 'result-main' },
      el('h3', { class: 'result-title' }, link(href(`/instruments/${inst.id}`), localName(inst))),
      el('p', { class: 'muted result-sub' }, [localName({ name_zh: inst.name_en, name_en: inst.name_zh }), inst.model, inst.manufacturer].filter(Boolean).join(' · ')),
      el('p', { class: 'result-meta' },
        badge(localName({ name_zh: inst.zone_name_zh, name_en: inst.zone_name_en }), 'info'), ' ',
        el('span', { class: 'result-owner' }, localName({ name_zh: inst.owner_org_name_zh, name_en: inst.owner_org_name_en })), ' · ',
        el('span', { class: 'result-class' }, className(inst)),
        inst.share_mode === 'internal' ? [' ', badge(t('catalogue.internalOnly'), 'warning')] : null)),
    el('div', { class: 'result-side' },
      statusBadge(inst),
      el('p', { class: 'result-price num' }, priceText(inst, inst.price.zone_fen))));
}

registerPage({
  path: '/catalogue',
  titleKey: 'catalogue.title',
  roles: null,
  nav: { group: 'catalogue', order: 10, labelKey: 'catalogue.nav' },
  async render(container, params, ctx) {
    const query = Object.fromEntries(FILTER_KEYS.map((k) => [k, ctx.query[k] || '']));
    const go = (patch) => ctx.navigate('/catalogue', { ...query, ...patch }, { replace: true });

    const qInput = el('input', { type: 'search', id: 'catalogue-q', name: 'q', value: query.q, placeholder: t('catalogue.searchPlaceholder'), autocomplete: 'off' });
    const searchForm = el('form', { class: 'catalogue-search', role: 'search', onsubmit: (ev) => { ev.preventDefault(); go({ q: qInput.value.trim() }); } },
      el('label', { for: 'catalogue-q', class: 'visually-hidden' }, t('catalogue.search')),
      qInput, el('button', { type: 'submit', class: 'btn btn-primary' }, t('catalogue.searchButton')));
    const results = el('div', { class: 'catalogue-results' }, loading());
    const side = el('aside', { class: 'catalogue-filters', 'aria-label': t('catalogue.filters') });
    mount(container, pageHeader(t('catalogue.title')), searchForm, el('div', { class: 'catalogue-layout' }, side, results));

    let page, orgs;
    try {
      [page, orgs] = await Promise.all([
        api.get('instruments', { query: { ...query, bookable: query.bookable ? '1' : '', limit: 30 } }),
        loadOrgs().catch(() => null), // without the list, no institution filter
      ]);
    } catch (err) {
      mount(results);
      showError(results, err);
      return;
    }
    const sortSelect = el('select', { id: 'catalogue-sort', onchange: (ev) => go({ sort: ev.target.value }) },
      ['', 'relevance', 'name', 'value'].map((s) => el('option', { value: s, selected: query.sort === s },
        s ? t(`catalogue.sort.${s}`) : (query.q ? t('catalogue.sort.relevance') : t('catalogue.sort.name')))));
    const statusSelect = el('select', { id: 'catalogue-status', onchange: (ev) => go({ run_status: ev.target.value }) },
      el('option', { value: '' }, t('catalogue.anyStatus')),
      RUN_STATUSES.map((s) => el('option', { value: s, selected: query.run_status === s }, t(`cat.status.${s}`))));
    mount(side,
      el('label', { class: 'check-filter' },
        el('input', { type: 'checkbox', checked: !!query.bookable, onchange: (ev) => go({ bookable: ev.target.checked ? '1' : '' }) }),
        ' ', t('catalogue.bookableOnly')),
      // Picking another zone drops an institution of a different zone.
      facetList(t('catalogue.zone'), page.facets.zone, query.zone, (code) => {
        const orgZone = orgs?.find((o) => String(o.id) === query.org)?.zone;
        go({ zone: code, org: !code || orgZone === code ? query.org : '' });
      }),
      orgs ? el('div', { class: 'form-row' }, el('label', { for: 'catalogue-org' }, t('catalogue.org')), orgSelect(orgs, query, go)) : null,
      facetList(t('catalogue.class'), page.facets.class, query.class.slice(0, 2), (code) => go({ class: code })),
      el('div', { class: 'form-row' }, el('label', { for: 'catalogue-status' }, t('catalogue.runStatus')), statusSelect),
      el('div', { class: 'form-row' }, el('label', { for: 'catalogue-sort' }, t('catalogue.sort')), sortSelect));

    if (!page.items.length) {
      const filtered = FILTER_KEYS.some((k) => query[k]);
      mount(results, emptyState(t('catalogue.empty.title'), t('catalogue.empty.hint'),
        filtered ? button(t('catalogue.empty.clear'), { onClick: () => ctx.navigate('/catalogue', {}) }) : null));
      return;
    }
    const list = el('ol', { class: 'results' }, page.items.map(resultRow));
    let shown = page.items.length;
    const shownText = el('span', { class: 'muted' }, t('catalogue.shown', { shown: formatNumber(shown) }));
    let cursor = page.next_cursor;
    const more = button(t('catalogue.more'), {
      onClick: async () => {
        const next = await api.get('instruments', { query: { ...query, bookable: query.bookable ? '1' : '', limit: 30, cursor, facets: '0' } });
        list.append(...next.items.map(resultRow));
        shown += next.items.length;
        shownText.textContent = t('catalogue.shown', { shown: formatNumber(shown) });
        cursor = next.next_cursor;
        more.hidden = !cursor;
      },
    });
    more.hidden = !cursor;
    mount(results,
      el('p', { class: 'result-count', role: 'status' }, el('strong', null, t('catalogue.count', { total: formatNumber(page.total) })), ' ', shownText),
      list, el('div', { class: 'pager' }, more));
    performance.mark('yiqi:catalogue-rendered');
  },
});

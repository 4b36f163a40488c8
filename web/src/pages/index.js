// Every page module of the app, one import line each. A page module registers
// itself with registerPage() (router.js) and its strings with addMessages()
// (i18n.js) when imported; see web/README.md. Keep this list grouped by area.

// Accounts and the landing page (issue 3)
import './home.js';
import './signin.js';
import './account.js';
import './account-security.js'; // #/account/security: password change, API tokens
import './admin-zones.js'; // #/admin/zones
import './admin-orgs.js'; // #/admin/orgs, #/admin/orgs/:id
import './admin-groups.js'; // #/admin/groups, #/admin/groups/:id
import './admin-users.js'; // #/admin/users, #/admin/users/new, #/admin/users/:id
import './admin-audit.js'; // #/admin/audit

// Catalogue (issue 4)
import './catalogue.js'; // #/catalogue
import './instrument.js'; // #/instruments/:id (registerInstrumentSection for more sections)
import './catalogue_manage.js'; // #/catalogue/manage, #/catalogue/new, #/catalogue/edit/:id

// Bookings (issue 5)
import './bookings.js'; // #/bookings (mine), #/approvals, #/desk, #/instruments/:id/calendar|maintenance

// Usage, vouchers (issue 6), settlement (issue 7), statistics (issue 8)
import './usage.js'; // #/usage (mine; PI: group by month), #/usage/record (operators), #/ledger (commission)
import './settlement.js'; // #/settlement
import './stats.js'; // #/stats: the statistics dashboard (commission, admins; operators for their institution)

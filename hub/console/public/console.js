/* council hub support console: vanilla JavaScript over /api/console, no framework, no build.
 *
 * Everything shown comes from outside the council (payloads, errors, names): it is only ever
 * put on the page with textContent or as a text node, never as HTML. The page's
 * Content-Security-Policy forbids inline script as a second wall. */
/* global document, window, sessionStorage, fetch, location, URLSearchParams, AbortController, TextDecoder */
(function () {
  'use strict';

  var API = '/api/console';
  var TOKEN = 'council-hub.console.token';
  var USER = 'council-hub.console.user';
  var STATUSES = ['pending', 'in-flight', 'awaiting-answer', 'delivered', 'failed', 'dead', 'superseded', 'skipped', 'needs-attention', 'discarded'];
  var FAILURES = ['failed', 'dead', 'needs-attention'];
  // The journal's rules (hub/journal/journal.ts), so that impossible actions are not offered.
  var REPLAYABLE = ['failed', 'dead', 'needs-attention', 'delivered', 'skipped', 'discarded'];
  var DISCARDABLE = ['pending', 'failed', 'dead', 'needs-attention'];
  var PAGE_SIZE = 50;

  var state = { filter: {}, offset: 0, total: 0, open: null, payloads: null, listAsked: 0 };

  // ---- small helpers ---------------------------------------------------------------------

  function $(id) {
    return document.getElementById(id);
  }

  /** A new element; string and number children become text nodes (never HTML). */
  function el(tag, props) {
    var node = document.createElement(tag);
    var p = props || {};
    if (p.className) node.className = p.className;
    if (p.text !== undefined) node.textContent = String(p.text);
    if (p.title) node.title = String(p.title);
    if (p.data) Object.keys(p.data).forEach(function (k) { node.setAttribute('data-' + k, String(p.data[k])); });
    if (p.type) node.type = p.type;
    if (p.onclick) node.addEventListener('click', p.onclick);
    // A payload box may scroll: keyboard users must be able to reach it (WCAG 2.1.1).
    if (tag === 'pre') node.tabIndex = 0;
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else if (typeof child === 'object' && child.nodeType) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }

  function fill(node) {
    node.replaceChildren();
    for (var i = 1; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function when(ms) {
    if (typeof ms !== 'number') return '';
    return new Date(ms).toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  /** Time of day to the millisecond, for the hops of one journey. */
  function clock(ms) {
    if (typeof ms !== 'number') return '';
    var d = new Date(ms);
    return d.toLocaleTimeString('en-GB') + '.' + String(d.getMilliseconds()).padStart(3, '0');
  }

  /** Ids are long; the list shows their start, the whole id on hover. */
  function shortId(id) {
    return el('span', { text: id.length > 13 ? id.slice(0, 8) + '…' : id, title: id });
  }

  function pretty(value) {
    if (value === undefined) return '(nothing stored)';
    try {
      return JSON.stringify(value, null, 2);
    } catch {
      return String(value);
    }
  }

  function statusBadge(status) {
    return el('span', { className: 'status status-' + status, text: status });
  }

  function fields(pairs) {
    var dl = el('dl', { className: 'fields' });
    pairs.forEach(function (pair) {
      if (pair[1] === undefined || pair[1] === null || pair[1] === '') return;
      append(dl, [el('dt', { text: pair[0] }), el('dd', {}, pair[1])]);
    });
    return dl;
  }

  function table(node, headings, rows) {
    var head = el('tr', {}, headings.map(function (h) { return el('th', { text: h }); }));
    var body = el('tbody', {}, rows.map(function (cells) {
      return el('tr', {}, cells.map(function (c) { return el('td', {}, c); }));
    }));
    return fill(node, el('thead', {}, head), body);
  }

  function openButton(deliveryId, label) {
    return el('button', { type: 'button', className: 'link', text: label || deliveryId, data: { open: deliveryId }, onclick: function () { openDelivery(deliveryId); } });
  }

  function notice(text, isError) {
    var box = $('notice');
    fill(box, text);
    box.className = isError ? 'notice error' : 'notice';
    show(box, Boolean(text));
  }

  // ---- talking to the hub ------------------------------------------------------------------

  function ApiError(message, status) {
    this.message = message;
    this.status = status;
  }
  ApiError.prototype = Object.create(Error.prototype);

  /** Calls the console API with the stored token; a 401 sends the person back to the login. */
  function api(method, path, body) {
    var token = sessionStorage.getItem(TOKEN);
    if (!token) {
      // A call made after another's 401 ended the session: the login already says why.
      if ($('login').hidden) showLogin('Log in to use the console.');
      return Promise.reject(new ApiError('not logged in', 401));
    }
    var headers = { authorization: 'Bearer ' + token, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(API + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) }).then(function (res) {
      if (res.status === 401) {
        sessionStorage.removeItem(TOKEN);
        showLogin('Your session has ended, or your account may not do that: log in again.');
        throw new ApiError('not logged in', 401);
      }
      return res.text().then(function (text) {
        var data;
        try {
          data = text ? JSON.parse(text) : undefined;
        } catch {
          data = undefined; // not JSON: the status says what happened
        }
        if (!res.ok) throw new ApiError(data && typeof data.error === 'string' ? data.error : 'the hub answered ' + res.status + ' ' + res.statusText, res.status);
        return data;
      });
    });
  }

  function reportFailure(err) {
    // A 401 has already put the login on the screen.
    if (err && err.status !== 401) notice('Could not load from the hub: ' + (err.message || err), true);
  }

  // ---- login -------------------------------------------------------------------------------

  function showLogin(message) {
    stopListening();
    show($('console'), false);
    show($('whoami'), false);
    show($('login'), true);
    fill($('login-error'), message || '');
    show($('login-error'), Boolean(message));
    notice('');
    $('login-username').focus();
  }

  function showConsole() {
    listen();
    show($('login'), false);
    show($('console'), true);
    show($('whoami'), true);
    fill($('username-shown'), sessionStorage.getItem(USER) || '');
  }

  function login(event) {
    event.preventDefault();
    var username = $('login-username').value.trim();
    var password = $('login-password').value;
    show($('login-error'), false);
    $('login-submit').disabled = true;
    fetch('/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '', username: username, password: password }),
    })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) throw new Error('Wrong username or password.');
        if (!res.ok) throw new Error('The hub refused the login (' + res.status + ' ' + res.statusText + ').');
        return res.json();
      })
      .then(function (body) {
        if (!body || typeof body.access_token !== 'string') throw new Error('The hub answered the login without a token.');
        sessionStorage.setItem(TOKEN, body.access_token);
        sessionStorage.setItem(USER, username);
        $('login-password').value = '';
        showConsole();
        return loadAll().then(openFromHash);
      })
      .catch(function (err) {
        fill($('login-error'), err && err.message ? err.message : String(err));
        show($('login-error'), true);
      })
      .then(function () {
        $('login-submit').disabled = false;
      });
  }

  function logout() {
    stopListening();
    var token = sessionStorage.getItem(TOKEN);
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(USER);
    var done = function () { showLogin('You have logged out.'); };
    if (!token) return done();
    fetch('/auth/revoke', {
      method: 'POST',
      headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
      body: JSON.stringify({ token: token }),
    }).then(done, done);
  }

  // ---- counts and failure groups -------------------------------------------------------------

  function showCounts(counts) {
    var targets = Object.keys(counts.byTarget || {}).sort();
    var used = STATUSES.filter(function (s) { return (counts.byStatus || {})[s]; });
    var columns = used.length ? used : FAILURES;
    var cell = function (target, status, n) {
      if (!n) return '0';
      return el('button', {
        type: 'button', className: 'link', text: n, data: { target: target || '', status: status },
        onclick: function () { setFilter({ status: [status], target: target || '' }); },
      });
    };
    var rows = targets.map(function (t) {
      return [t].concat(columns.map(function (s) { return cell(t, s, counts.byTarget[t][s]); }));
    });
    rows.push([el('strong', { text: 'all targets' })].concat(columns.map(function (s) { return cell('', s, counts.byStatus[s]); })));
    table($('counts'), ['target'].concat(columns), rows);
    var list = $('targets');
    fill(list, targets.map(function (t) { var o = el('option'); o.value = t; return o; }));
  }

  function showGroups(groups) {
    show($('groups-empty'), groups.length === 0);
    show($('groups'), groups.length > 0);
    table($('groups'), ['target', 'error', 'deliveries', 'statuses', 'newest', ''], groups.map(function (g) {
      var statuses = Object.keys(g.statuses).map(function (s) { return s + ' ' + g.statuses[s]; }).join(', ');
      return [g.target, g.error, String(g.count), statuses, when(g.newest), el('button', {
        type: 'button', text: 'Replay this group', data: { target: g.target, error: g.error },
        onclick: function () { replayGroup(g); },
      })];
    }));
  }

  function bulkRequest() {
    var reason = $('bulk-reason').value.trim();
    if (!reason) {
      notice('Give a reason in "Replay many" first: every replay is audited.', true);
      $('bulk-reason').focus();
      return null;
    }
    return { reason: reason, from: $('bulk-from').value };
  }

  function reportBulk(what, result) {
    var refused = result.refused || [];
    var text = what + ': ' + result.replayed.length + ' replayed, ' + refused.length + ' refused.';
    if (refused.length) text += ' Refused: ' + refused.map(function (r) { return r.deliveryId + ' (' + r.reason + ')'; }).join('; ');
    notice(text, refused.length > 0 && result.replayed.length === 0);
  }

  function replayGroup(group) {
    var request = bulkRequest();
    if (!request) return;
    api('POST', '/failure-groups/replay', { target: group.target, error: group.error, reason: request.reason, from: request.from })
      .then(function (result) {
        reportBulk('Group ' + group.target + ' / ' + group.error, result);
        return loadAll();
      })
      .catch(function (err) { if (err.status !== 401) notice('The hub refused the group replay: ' + err.message, true); });
  }

  function replayMatching() {
    var request = bulkRequest();
    if (!request) return;
    var filter = queryOf(state.filter);
    delete filter.limit;
    delete filter.offset;
    api('POST', '/replay', { filter: filter, reason: request.reason, from: request.from })
      .then(function (result) {
        reportBulk('Replay of the deliveries that match the filter', result);
        return loadAll();
      })
      .catch(function (err) { if (err.status !== 401) notice('The hub refused the replay: ' + err.message, true); });
  }

  // ---- the list of deliveries ----------------------------------------------------------------

  function buildStatusChoices() {
    var box = $('status-choices');
    fill(box, STATUSES.map(function (s) {
      var input = el('input', { type: 'checkbox' });
      input.id = 'status-' + s;
      input.value = s;
      return el('label', {}, input, ' ', s);
    }), el('span', { className: 'hint', text: '(none ticked: every status)' }));
  }

  function localToIso(value) {
    if (!value) return '';
    var d = new Date(value);
    return isNaN(d.getTime()) ? '' : d.toISOString();
  }

  function readFilter() {
    return {
      status: STATUSES.filter(function (s) { return $('status-' + s).checked; }),
      target: $('filter-target').value.trim(),
      key: $('filter-key').value.trim(),
      q: $('filter-text').value.trim(),
      from: localToIso($('filter-from').value),
      to: localToIso($('filter-to').value),
    };
  }

  function writeFilter(filter) {
    STATUSES.forEach(function (s) { $('status-' + s).checked = (filter.status || []).indexOf(s) >= 0; });
    $('filter-target').value = filter.target || '';
    $('filter-key').value = filter.key || '';
    $('filter-text').value = filter.q || '';
    $('filter-from').value = '';
    $('filter-to').value = '';
  }

  function queryOf(filter) {
    var query = {};
    if (filter.status && filter.status.length) query.status = filter.status.join(',');
    ['target', 'key', 'q', 'from', 'to'].forEach(function (k) { if (filter[k]) query[k] = filter[k]; });
    return query;
  }

  function setFilter(filter) {
    writeFilter(filter);
    state.filter = readFilter();
    state.offset = 0;
    loadDeliveries().catch(reportFailure);
  }

  function loadDeliveries() {
    var query = queryOf(state.filter);
    query.limit = String(PAGE_SIZE);
    query.offset = String(state.offset);
    // Answers can come back out of order (a refresh, then a new filter): show only the latest.
    var asked = ++state.listAsked;
    return api('GET', '/deliveries?' + new URLSearchParams(query).toString()).then(function (page) {
      if (asked === state.listAsked) showDeliveries(page);
    });
  }

  function showDeliveries(page) {
    state.total = page.total;
    var body = $('deliveries').tBodies[0];
    fill(body, page.items.map(function (d) {
      var row = el('tr', { data: { 'delivery-id': d.id } },
        el('td', { text: when(d.updatedAt) }),
        el('td', {}, statusBadge(d.status)),
        el('td', { text: d.target }),
        el('td', { text: d.key }),
        el('td', { className: 'number', text: d.attempts }),
        el('td', { className: 'error-text', text: d.lastError ? d.lastError.message : d.reason || '' }),
        el('td', {}, shortId(d.id)));
      row.tabIndex = 0;
      if (state.open === d.id) row.classList.add('selected');
      row.addEventListener('click', function () { openDelivery(d.id); });
      row.addEventListener('keydown', function (e) { if (e.key === 'Enter') openDelivery(d.id); });
      return row;
    }));
    if (!page.items.length) append(body, el('tr', {}, el('td', { text: 'No deliveries match.' })));
    var first = page.total ? state.offset + 1 : 0;
    fill($('page-shown'), first + '–' + (state.offset + page.items.length) + ' of ' + page.total);
    $('page-previous').disabled = state.offset === 0;
    $('page-next').disabled = state.offset + PAGE_SIZE >= page.total;
  }

  function loadAll() {
    return Promise.all([
      api('GET', '/counts').then(showCounts),
      api('GET', '/failure-groups').then(function (r) { showGroups(r.groups); }),
      loadDeliveries(),
      loadInbound(),
      loadResponseTimes(),
    ]).catch(reportFailure);
  }

  // ---- one delivery --------------------------------------------------------------------------

  function openFromHash() {
    var match = /^#delivery=(.+)$/.exec(location.hash);
    if (match) openDelivery(decodeURIComponent(match[1]));
  }

  /** Loads and shows one delivery with its message, journey and audit. */
  function openDelivery(id, options) {
    var keepResult = options && options.keepResult;
    state.open = id;
    if (location.hash !== '#delivery=' + encodeURIComponent(id)) window.history.replaceState(null, '', '#delivery=' + encodeURIComponent(id));
    Array.prototype.forEach.call($('deliveries').tBodies[0].rows, function (r) {
      r.classList.toggle('selected', r.getAttribute('data-delivery-id') === id);
    });
    return api('GET', '/deliveries/' + encodeURIComponent(id))
      .then(function (found) {
        return api('GET', '/messages/' + encodeURIComponent(found.delivery.messageId)).then(
          function (m) { return { found: found, journey: m.journey, siblings: m.deliveries, audit: m.audit }; },
          function (err) {
            if (err.status === 404) return { found: found, journey: [], siblings: [], audit: found.audit };
            throw err;
          },
        );
      })
      .then(function (all) {
        if (state.open !== id) return;
        showDetail(all.found.delivery, all.found.message, all.journey, all.siblings, all.audit, keepResult);
      })
      .catch(function (err) {
        if (err.status === 401) return;
        show($('detail'), true);
        fill($('detail-summary'), el('p', { className: 'error', text: 'Could not open delivery ' + id + ': ' + err.message }));
      });
  }

  function closeDetail() {
    state.open = null;
    show($('detail'), false);
    window.history.replaceState(null, '', location.pathname);
    Array.prototype.forEach.call($('deliveries').tBodies[0].rows, function (r) { r.classList.remove('selected'); });
  }

  function showDetail(d, message, journey, siblings, audit, keepResult) {
    show($('detail'), true);
    fill($('detail-title'), 'Delivery to ' + d.target + ' for ' + d.key);
    fill($('detail-summary'), fields([
      ['delivery', d.id],
      ['status', [statusBadge(d.status), d.reason ? ' ' + d.reason : '']],
      ['target', d.target],
      ['key', d.key],
      ['attempts', d.attempts + ' of at most ' + (d.retry ? d.retry.maxAttempts : '?')],
      ['idempotency key', d.idempotencyKey],
      ['created', when(d.createdAt)],
      ['last change', when(d.updatedAt)],
      ['next attempt', when(d.nextAttemptAt)],
      ['settled', when(d.settledAt)],
      ['superseded by', d.supersededBy ? (d.supersededBy.indexOf('message:') === 0 ? d.supersededBy : openButton(d.supersededBy)) : ''],
      ['candidates', d.candidates === undefined ? '' : el('pre', { className: 'payload', text: pretty(d.candidates) })],
    ]));

    var e = d.lastError;
    fill($('detail-error'), e
      ? fields([
        ['error', el('span', { className: 'error-text', text: e.message })],
        ['code', e.code],
        ['classification', e.classification === 'permanent' ? 'permanent: not retried, waits for a person' : 'transient: retried with backoff'],
        ['failed node', [e.nodeName || '(no name)', e.nodeType ? ' (' + e.nodeType + ')' : '', e.nodeId ? ' id ' + e.nodeId : '']],
        ['when', when(e.at)],
      ])
      : el('p', { className: 'hint', text: 'No error recorded.' }));

    if (message) {
      fill($('detail-message'), fields([
        ['message', message.id],
        ['source', message.source],
        ['sender\'s id', message.sourceMessageId],
        ['key', message.key],
        ['received', when(message.receivedAt)],
        ['edited copy of', message.editedFrom],
        ['resolved by', message.resolvedBy ? 'edited copy ' + message.resolvedBy.messageId + ' by ' + message.resolvedBy.actor + ' at ' + when(message.resolvedBy.at) + ': ' + message.resolvedBy.reason : ''],
      ]));
      fill($('detail-payload'), pretty(message.payload));
    } else {
      fill($('detail-message'), el('p', { className: 'hint', text: 'The message ' + d.messageId + ' is no longer in the journal.' }));
      fill($('detail-payload'), '');
    }
    // Shown when the failing node saw something other than what came in (after a mapping).
    var resumed = d.resume && d.resume.msg && (!message || pretty(d.resume.msg.payload) !== pretty(message.payload));
    show($('detail-resume-block'), Boolean(resumed));
    fill($('detail-resume'), resumed ? pretty(d.resume.msg.payload) : '');

    var started = message ? message.receivedAt : undefined;
    table($('detail-journey'), ['#', 'node', 'type', 'delivery', 'started', 'took', 'error'], (journey || []).map(function (h, i) {
      return [
        String(i + 1),
        (h.nodeName || h.nodeId) + (h.nodeName ? ' (' + h.nodeId + ')' : ''),
        h.nodeType || '',
        h.deliveryId ? shortId(h.deliveryId) : '',
        clock(h.startedAt) + (typeof started === 'number' ? ' (+' + (h.startedAt - started) + ' ms)' : ''),
        typeof h.durationMs === 'number' ? h.durationMs + ' ms' : 'not finished',
        h.error ? el('span', { className: 'error-text', text: h.error }) : '',
      ];
    }));
    if (!journey || !journey.length) append($('detail-journey'), el('tbody', {}, el('tr', {}, el('td', { text: 'No hops recorded yet (they are written a moment after they happen).' }))));

    table($('detail-siblings'), ['target', 'key', 'status', 'attempts', 'delivery'], (siblings || []).map(function (s) {
      return [s.target, s.key, statusBadge(s.status), String(s.attempts), s.id === d.id ? s.id + ' (this one)' : openButton(s.id)];
    }));

    table($('detail-audit'), ['when', 'who', 'action', 'reason', 'delivery', 'detail'], (audit || []).map(function (a) {
      var detail = a.detail ? Object.keys(a.detail).map(function (k) { return k + ': ' + (typeof a.detail[k] === 'object' ? JSON.stringify(a.detail[k]) : a.detail[k]); }).join(', ') : '';
      return [when(a.at), a.actor, a.action, a.reason, a.deliveryId || '', detail];
    }));
    if (!audit || !audit.length) append($('detail-audit'), el('tbody', {}, el('tr', {}, el('td', { text: 'Nobody has replayed or discarded this yet.' }))));

    prepareActions(d, message, keepResult);
    prepareResolve(d);
    detailLinks(d, message);
    if (REPLAYABLE.indexOf(d.status) >= 0) loadEditForm(d);
    else show($('edit-form-block'), false);
  }

  // ---- actions on one delivery ---------------------------------------------------------------

  function prepareActions(d, message, keepResult) {
    // A SOAP request refused with a fault: its caller was answered and sends again; nothing waits for a resubmitted copy.
    var soapRefusal = d.target === 'hub' && d.lastError && d.lastError.nodeType === 'soap-in';
    var replayable = REPLAYABLE.indexOf(d.status) >= 0 && !soapRefusal;
    var discardable = DISCARDABLE.indexOf(d.status) >= 0;
    var hasFailedNode = Boolean(d.resume);
    ['replay-failed-node', 'replay-start', 'replay-edited'].forEach(function (id) { $(id).disabled = !replayable; });
    $('discard').disabled = !discardable;
    var hint = [];
    if (!replayable && !soapRefusal) hint.push('A ' + d.status + ' delivery cannot be replayed' + (d.status === 'superseded' ? ': a newer change replaced it.' : ' now.'));
    if (soapRefusal) hint.push('A SOAP request refused at the door was answered with a fault: its sender sends it again. Read it, then discard it with a reason.');
    if (!discardable) hint.push('Only pending, failed, dead and needs-attention deliveries can be discarded.');
    if (replayable && !hasFailedNode) hint.push('No failed node is recorded: a replay runs from the start.');
    fill($('action-hint'), hint.join(' '));
    state.payloads = { 'failed-node': hasFailedNode ? d.resume.msg.payload : undefined, start: message ? message.payload : undefined };
    var radios = document.getElementsByName('edit-from');
    Array.prototype.forEach.call(radios, function (r) {
      if (r.value === 'failed-node') r.disabled = !hasFailedNode;
      r.checked = r.value === (hasFailedNode ? 'failed-node' : 'start');
    });
    loadEditedPayload();
    if (!keepResult) {
      $('action-reason').value = '';
      show($('action-result'), false);
    }
    show($('action-error'), false);
  }

  function editFrom() {
    var chosen = 'start';
    Array.prototype.forEach.call(document.getElementsByName('edit-from'), function (r) { if (r.checked) chosen = r.value; });
    return chosen;
  }

  function loadEditedPayload() {
    var payload = state.payloads ? state.payloads[editFrom()] : undefined;
    $('edited-payload').value = payload === undefined ? '' : JSON.stringify(payload, null, 2);
  }

  function actionError(text) {
    fill($('action-error'), text);
    show($('action-error'), true);
    show($('action-result'), false);
  }

  function actionResult(children) {
    fill($('action-result'), children);
    show($('action-result'), true);
    show($('action-error'), false);
  }

  /** Replays or discards the open delivery; checks what the page can before sending. */
  function act(kind) {
    var id = state.open;
    if (!id) return;
    show($('action-error'), false);
    show($('action-result'), false);
    var reason = $('action-reason').value.trim();
    if (!reason) {
      actionError('Give a reason first: every replay and discard is audited.');
      $('action-reason').focus();
      return;
    }
    var path = '/deliveries/' + encodeURIComponent(id) + (kind === 'discard' ? '/discard' : '/replay');
    var body = { reason: reason };
    if (kind === 'failed-node' || kind === 'start') body.from = kind;
    if (kind === 'edited') {
      var text = $('edited-payload').value;
      try {
        body.payload = JSON.parse(text);
      } catch (err) {
        actionError('The edited payload is not valid JSON (' + err.message + '). Nothing was sent: correct it and try again.');
        $('edited-payload').focus();
        return;
      }
      body.from = editFrom();
    }
    var buttons = ['replay-failed-node', 'replay-start', 'replay-edited', 'discard'];
    var wasDisabled = buttons.map(function (b) { return $(b).disabled; });
    buttons.forEach(function (b) { $(b).disabled = true; });
    api('POST', path, body)
      .then(function (result) {
        var said;
        if (kind === 'discard') said = ['Discarded. The reason is in the audit trail.'];
        else if (kind === 'edited') said = ['The edited copy is running (message ' + result.messageId + '). ', result.runs ? openButton(result.runs, 'Open its delivery') : ''];
        else said = ['Replay started from ' + (kind === 'start' ? 'the start' : 'the node that failed') + '.'];
        actionResult(said);
        return loadAll().then(function () { return openDelivery(id, { keepResult: true }); });
      })
      .catch(function (err) {
        buttons.forEach(function (b, i) { $(b).disabled = wasDisabled[i]; });
        if (err.status !== 401) actionError('The hub refused: ' + err.message);
      });
  }


  // ---- people, cases, inbound failures -------------------------------------------------------

  /** Keys of these targets are not people (a case, a payment, a message at the door). */
  var NOT_PEOPLE = ['crm', 'hub', 'finance'];

  function personButton(contactId, label) {
    return el('button', { type: 'button', className: 'link', text: label || contactId, data: { person: contactId }, onclick: function () { openPerson(contactId); } });
  }

  function caseButton(key) {
    return el('button', { type: 'button', className: 'link', text: key, data: { 'case': key }, onclick: function () { openCase(key); } });
  }

  function searchPeople(event) {
    event.preventDefault();
    var q = $('person-q').value.trim();
    if (!q) return;
    api('GET', '/people?q=' + encodeURIComponent(q))
      .then(function (r) {
        fill($('person-results'), r.people.map(function (p) {
          return el('li', {}, personButton(p.contactId, (p.name ? p.name + ' ' : '') + '(' + p.contactId + ')'), p.lastSeen ? ' last change ' + when(p.lastSeen) : '');
        }));
        show($('person-results-empty'), r.people.length === 0);
      })
      .catch(reportFailure);
  }

  function verdictTable(reconciliation) {
    if (!reconciliation) return el('p', { className: 'hint', text: 'Not known.' });
    if (reconciliation.error && !reconciliation.systems) return el('p', { className: 'hint', text: reconciliation.error });
    var t = el('table', { className: 'grid' });
    table(t, ['system', 'verdict', 'address held', 'why', 'delivery'], (reconciliation.systems || []).map(function (f) {
      return [f.system, f.verdict, f.address || '', f.detail || '', f.delivery ? [statusBadge(f.delivery.status), ' ', openButton(f.delivery.id, 'open')] : ''];
    }));
    return [reconciliation.crmAddress ? el('p', {}, 'The CRM holds: ', el('strong', { text: reconciliation.crmAddress })) : '', reconciliation.error ? el('p', { className: 'error-text', text: reconciliation.error }) : '', t];
  }

  function timelineRows(timeline) {
    return timeline.map(function (t) {
      var m = t.message;
      return [
        when(m.receivedAt),
        m.source,
        m.sourceMessageId || '',
        el('span', {}, t.deliveries.map(function (d) {
          return el('span', { className: 'delivery-chip' }, d.target + ' ', statusBadge(d.status), ' ', openButton(d.id, 'open'), d.case ? [' case ', caseButton(d.case)] : '', ' ');
        })),
      ];
    });
  }

  function openPerson(contactId) {
    return api('GET', '/people/' + encodeURIComponent(contactId))
      .then(function (p) {
        show($('person'), true);
        fill($('person-title'), (p.name || 'Person') + ' (' + p.contactId + ')');
        fill($('person-summary'), fields([['CRM contact id', p.contactId], ['name', p.name]]));
        fill($('person-systems'), verdictTable(p.reconciliation));
        table($('person-xrefs'), ['system', 'their ids', 'found'], (p.crossReferences || []).map(function (x) {
          return [x.system, Object.keys(x.ids || {}).map(function (k) { return k + ' ' + x.ids[k]; }).join(', '), x.foundAt || ''];
        }));
        fill($('person-cases'), p.cases.length ? p.cases.map(function (c) { return el('li', {}, caseButton(c)); }) : el('li', { className: 'hint', text: 'No case updates through the hub.' }));
        table($('person-timeline'), ['received', 'from', 'sender\'s id', 'deliveries'], timelineRows(p.timeline));
        $('person').focus();
      })
      .catch(function (err) {
        if (err.status !== 401) notice('Could not open the person ' + contactId + ': ' + err.message, true);
      });
  }

  function openCase(key) {
    return api('GET', '/cases/' + encodeURIComponent(key))
      .then(function (c) {
        show($('case'), true);
        fill($('case-title'), 'Case ' + c.key);
        fill($('case-summary'), fields([['case', c.key], ['people', c.contactIds.length ? el('span', {}, c.contactIds.map(function (id) { return personButton(id); })) : 'none known']]));
        table($('case-timeline'), ['received', 'from', 'sender\'s id', 'deliveries'], timelineRows(c.timeline));
        // The CRM's own copy (GetCase): whether it holds every update the source systems sent.
        var crm = c.crm || {};
        var crmNote = crm.error ? crm.error : crm.caseRef ? 'CRM case ' + crm.caseRef + (crm.status ? ', status ' + crm.status : '') + (crm.contactId ? ', contact ' + crm.contactId : ', no contact linked') : '';
        fill($('case-crm-note'), crmNote);
        show($('case-crm-note'), !!crmNote);
        table($('case-crm'), ['occurred', 'status', 'summary', 'sender\'s id'], (crm.updates || []).map(function (u) {
          return [u.occurredAt || '', u.status || '', u.summary || '', u.sourceEventId || ''];
        }));
        $('case').focus();
      })
      .catch(function (err) {
        if (err.status !== 401) notice('Could not open the case ' + key + ': ' + err.message, true);
      });
  }

  function loadInbound() {
    return api('GET', '/inbound-failures').then(function (r) {
      table($('inbound'), ['received', 'what', 'reason', 'status', 'raw content', ''], r.items.map(function (f) {
        var raw = typeof f.content === 'string' ? f.content : pretty(f.content);
        return [
          when(f.receivedAt),
          f.kind,
          el('span', { className: 'error-text', text: f.reason || '' }),
          statusBadge(f.status),
          el('pre', { className: 'payload raw', text: raw.length > 400 ? raw.slice(0, 400) + '…' : raw }),
          openButton(f.deliveryId, 'Open to resubmit or discard'),
        ];
      }));
      show($('inbound-empty'), r.items.length === 0);
    });
  }

  /** A candidate in the council's words: an address, or a person with their ids. */
  function describeCandidate(c) {
    if (!c || typeof c !== 'object') return String(c);
    var words = [];
    ['saon', 'paon', 'street', 'streetDescription', 'locality', 'town', 'postTown', 'postcode'].forEach(function (k) { if (typeof c[k] === 'string' && c[k]) words.push(c[k]); });
    if (!words.length && Array.isArray(c.lines)) words = c.lines.concat(c.postcode ? [c.postcode] : []);
    if (!words.length) ['forename', 'surname', 'dateOfBirth'].forEach(function (k) { if (c[k]) words.push(c[k]); });
    var ids = Object.keys(c).filter(function (k) { return /uprn|Id$|Ref$/.test(k) && (typeof c[k] === 'string' || typeof c[k] === 'number'); }).map(function (k) { return k + ' ' + c[k]; });
    return words.join(', ') + (ids.length ? ' (' + ids.join(', ') + ')' : '');
  }

  function prepareResolve(d) {
    var open = d.status === 'needs-attention';
    show($('resolve'), open);
    if (!open) return;
    var candidates = Array.isArray(d.candidates) ? d.candidates : [];
    var attention = d.resume && d.resume.msg && d.resume.msg.attention;
    var isAddress = Boolean(attention && attention.property);
    fill($('resolve-why'), d.reason || '');
    fill($('resolve-candidates'), candidates.length
      ? el('fieldset', { className: 'choices' }, el('legend', { text: 'Candidates' }), candidates.map(function (c, i) {
        var input = el('input', { type: 'radio' });
        input.name = 'resolve-choice';
        input.value = String(i);
        input.id = 'resolve-choice-' + i;
        var label = el('label', { text: describeCandidate(c) });
        label.htmlFor = input.id;
        return el('div', { className: 'choice' }, input, ' ', label);
      }))
      : el('p', { className: 'hint', text: 'No candidates were found.' }));
    show($('resolve-uprn-block'), isAddress);
    $('resolve-uprn').value = '';
  }

  function resolveChoice() {
    var id = state.open;
    if (!id) return;
    var reason = $('action-reason').value.trim();
    if (!reason) {
      actionError('Give a reason first (under Actions): every choice is audited.');
      $('action-reason').focus();
      return;
    }
    var body = { reason: reason };
    var uprn = $('resolve-uprn').value.trim();
    var picked = null;
    Array.prototype.forEach.call(document.getElementsByName('resolve-choice'), function (r) { if (r.checked) picked = Number(r.value); });
    if (uprn) {
      if (!/^[0-9]{1,12}$/.test(uprn)) {
        actionError('A UPRN is 1 to 12 digits. Nothing was sent.');
        $('resolve-uprn').focus();
        return;
      }
      body.uprn = uprn;
    } else if (picked !== null) body.candidate = picked;
    else {
      actionError('Pick a candidate or type a UPRN first.');
      return;
    }
    $('resolve-submit').disabled = true;
    api('POST', '/deliveries/' + encodeURIComponent(id) + '/resolve', body)
      .then(function (result) {
        actionResult(['Chosen' + (result.uprn ? ': UPRN ' + result.uprn : '') + '. The message runs again' + (result.messageId ? ' (message ' + result.messageId + ')' : '') + '.']);
        return loadAll().then(function () { return openDelivery(id, { keepResult: true }); });
      })
      .catch(function (err) {
        if (err.status !== 401) actionError('The hub refused: ' + err.message);
      })
      .then(function () { $('resolve-submit').disabled = false; });
  }

  function detailLinks(d, message) {
    var links = [];
    if (NOT_PEOPLE.indexOf(d.target) < 0 && /^[A-Za-z0-9_-]{1,40}$/.test(d.key)) links.push(['person', personButton(d.key)]);
    if (d.target === 'crm') links.push(['case', caseButton(d.key)]);
    var contact = message && message.payload && message.payload.contact && message.payload.contact.contactId;
    if (contact && NOT_PEOPLE.indexOf(d.target) >= 0) links.push(['person', personButton(String(contact))]);
    fill($('detail-links'), links.length ? fields(links) : '');
  }


  // ---- response times, live updates ----------------------------------------------------------

  /** One target's chart: latency as a line, error rate as bars, on a canvas (no inline style). */
  function drawChart(canvas, samples) {
    var ctx = canvas.getContext && canvas.getContext('2d');
    if (!ctx) return;
    var w = canvas.width;
    var h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = '#6f6f6f';
    ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
    if (!samples.length) return;
    var maxLatency = Math.max.apply(null, samples.map(function (s) { return s.meanSeconds || 0; }).concat([0.001]));
    var step = w / Math.max(1, samples.length);
    samples.forEach(function (s, i) {
      if (s.errorRate > 0) {
        ctx.fillStyle = '#b10e1e';
        var bar = s.errorRate * (h - 4);
        ctx.fillRect(i * step + 1, h - 2 - bar, Math.max(1, step - 2), bar);
      }
    });
    ctx.strokeStyle = '#005ea5';
    ctx.lineWidth = 2;
    ctx.beginPath();
    var started = false;
    samples.forEach(function (s, i) {
      if (s.meanSeconds === undefined) return;
      var x = i * step + step / 2;
      var y = h - 2 - (s.meanSeconds / maxLatency) * (h - 6);
      if (started) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      started = true;
    });
    ctx.stroke();
  }

  function loadResponseTimes() {
    return api('GET', '/response-times').then(function (r) {
      fill($('alerts'), r.targets.filter(function (t) { return t.alert; }).map(function (t) {
        return el('p', { className: 'alert', text: 'Alert: ' + t.alert + ' (alert after ' + r.alertAfterMinutes + ' minutes).' });
      }));
      fill($('times'), r.targets.length ? r.targets.map(function (t) {
        var delivered = 0;
        var failed = 0;
        var weighted = 0;
        t.samples.forEach(function (s) { delivered += s.delivered; failed += s.failed; weighted += (s.meanSeconds || 0) * s.delivered; });
        var mean = delivered ? weighted / delivered : undefined;
        var summary = t.target + ': ' + delivered + ' delivered, ' + failed + ' failed over ' + t.samples.length + ' samples of ' + r.sampleSeconds + ' s; mean ' +
          (mean === undefined ? 'not known' : Math.round(mean * 1000) + ' ms') + '; error rate ' + (delivered + failed ? Math.round((100 * failed) / (delivered + failed)) : 0) + '%';
        var canvas = el('canvas', { className: 'chart' });
        canvas.width = 320;
        canvas.height = 80;
        canvas.setAttribute('role', 'img');
        canvas.setAttribute('aria-label', summary);
        drawChart(canvas, t.samples);
        return el('figure', { className: 'time', data: { target: t.target } }, el('figcaption', {}, el('strong', { text: t.target }), t.failingSince ? el('span', { className: 'error-text', text: ' failing since ' + when(t.failingSince) }) : ''), canvas, el('p', { className: 'hint', text: summary }));
      }) : el('p', { className: 'hint', text: 'No deliveries yet since the hub started.' }));
    });
  }

  var stream = null;
  var reloadTimer = null;

  /** Reloads what the counts affect, at most every second (not the open delivery: nothing moves under the pointer). */
  function liveReload() {
    if (reloadTimer) return;
    reloadTimer = window.setTimeout(function () {
      reloadTimer = null;
      loadAll();
    }, 1000);
  }

  function showProgress(p) {
    var box = $('progress');
    show(box, true);
    fill(box, p.done >= p.total ? 'Finished: ' + p.what + ', ' + p.total + ' deliveries.' : 'In progress: ' + p.what + ': ' + p.done + ' of ' + p.total + ' deliveries replayed.');
  }

  /** Server-sent events read with fetch, so that the token stays in a header. Reconnects after a drop. */
  function listen() {
    var token = sessionStorage.getItem(TOKEN);
    if (!token || stream || typeof AbortController === 'undefined') return;
    var controller = new AbortController();
    stream = controller;
    fetch(API + '/events', { headers: { authorization: 'Bearer ' + token, accept: 'text/event-stream' }, signal: controller.signal })
      .then(function (res) {
        if (!res.ok || !res.body) throw new Error('events answered ' + res.status);
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buffer = '';
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error('the event stream ended');
            buffer += decoder.decode(chunk.value, { stream: true });
            var frames = buffer.split('\n\n');
            buffer = frames.pop();
            frames.forEach(function (frame) {
              var name = 'message';
              var data = '';
              frame.split('\n').forEach(function (line) {
                if (line.indexOf('event: ') === 0) name = line.slice(7);
                else if (line.indexOf('data: ') === 0) data += line.slice(6);
              });
              if (!data) return;
              var value = JSON.parse(data);
              if (name === 'counts') {
                document.body.setAttribute('data-live', 'on');
                liveReload();
              } else if (name === 'progress') showProgress(value);
            });
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {
        if (stream !== controller) return;
        stream = null;
        document.body.setAttribute('data-live', 'off');
        if (!controller.signal.aborted) window.setTimeout(listen, 5000);
      });
  }

  function stopListening() {
    if (stream) stream.abort();
    stream = null;
  }


  // ---- the edit form, generated from the payload's JSON Schema -------------------------------

  var form = { bindings: [], base: undefined, schemaName: null };

  /** "dateOfBirth" -> "Date of birth": a field's label when its schema has no title. */
  function humanise(key) {
    var words = String(key).replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
    var known = { uprn: 'UPRN', paon: 'house (PAON)', saon: 'flat or unit (SAON)', crm: 'CRM', id: 'id' };
    return words.split(' ').map(function (w) { return known[w] || w; }).join(' ').replace(/^./, function (c) { return c.toUpperCase(); });
  }

  function typeOf(schema) {
    if (!schema) return 'unknown';
    if (schema.const !== undefined) return 'const';
    if (Array.isArray(schema.enum)) return 'enum';
    var t = Array.isArray(schema.type) ? schema.type.filter(function (x) { return x !== 'null'; })[0] : schema.type;
    if (!t && schema.properties) return 'object';
    return t || 'unknown';
  }

  var fieldCount = 0;

  function field(schema, value, path, label, required, container) {
    var kind = typeOf(schema);
    var id = 'ef-' + (fieldCount += 1);
    var hintId = id + '-hint';
    if (kind === 'object' && schema.properties) {
      var set = el('fieldset', { className: 'ef-object' }, el('legend', { text: label }));
      var req = schema.required || [];
      Object.keys(schema.properties).forEach(function (k) {
        field(schema.properties[k], value && typeof value === 'object' ? value[k] : undefined, path.concat([k]), schema.properties[k].title || humanise(k), req.indexOf(k) >= 0, set);
      });
      // Fields the payload has that the schema does not name are kept as they are.
      append(container, set);
      return;
    }
    if (kind === 'object' && value && typeof value === 'object' && !Array.isArray(value)) {
      var ids = el('fieldset', { className: 'ef-object' }, el('legend', { text: label }));
      Object.keys(value).forEach(function (k) { field(schema.additionalProperties || { type: 'string' }, value[k], path.concat([k]), humanise(k), true, ids); });
      append(container, ids);
      return;
    }
    var input;
    var wrap = el('div', { className: 'ef-field' });
    var labelNode = el('label', { text: label + (required ? ' (required)' : '') });
    labelNode.htmlFor = id;
    if (kind === 'array' && schema.items && ['string', 'number', 'integer'].indexOf(typeOf(schema.items)) >= 0) {
      input = el('textarea');
      input.rows = 3;
      input.value = Array.isArray(value) ? value.join('\n') : '';
      form.bindings.push({ path: path, input: input, kind: 'lines' });
      labelNode.textContent += ', one per line';
    } else if (kind === 'enum') {
      input = el('select', {}, el('option', { text: '' }), schema.enum.map(function (v) { var o = el('option', { text: v }); o.value = String(v); return o; }));
      input.value = value === undefined ? '' : String(value);
      form.bindings.push({ path: path, input: input, kind: 'string' });
    } else if (kind === 'boolean') {
      input = el('input', { type: 'checkbox' });
      input.checked = value === true;
      form.bindings.push({ path: path, input: input, kind: 'boolean' });
    } else if (kind === 'const') {
      input = el('input');
      input.value = String(schema.const);
      input.readOnly = true;
      form.bindings.push({ path: path, input: input, kind: 'const', value: schema.const });
    } else if (kind === 'string' || kind === 'number' || kind === 'integer') {
      input = el('input');
      if (kind !== 'string') {
        input.type = 'number';
        input.step = kind === 'integer' ? '1' : 'any';
      } else if (schema.format === 'date') input.type = 'date';
      if (schema.maxLength) input.maxLength = schema.maxLength;
      input.value = value === undefined || value === null ? '' : String(value);
      // The schema's pattern is a search (JSON Schema), not a whole-value match (HTML's pattern): checked here.
      form.bindings.push({ path: path, input: input, kind: kind, pattern: kind === 'string' && schema.format !== 'date' ? schema.pattern : undefined, about: schema.description });
    } else {
      // anything else (arrays of objects, mixed types): its own small JSON box
      input = el('textarea');
      input.rows = 4;
      input.value = value === undefined ? '' : JSON.stringify(value, null, 2);
      form.bindings.push({ path: path, input: input, kind: 'json' });
    }
    input.id = id;
    input.required = Boolean(required) && kind !== 'boolean';
    var about = schema.description ? el('span', { className: 'hint', text: schema.description }) : null;
    if (about) {
      about.id = hintId;
      input.setAttribute('aria-describedby', hintId);
    }
    input.addEventListener('input', syncForm);
    input.addEventListener('change', syncForm);
    append(wrap, [labelNode, input, about]);
    append(container, wrap);
  }

  function setAt(target, path, value) {
    var node = target;
    for (var i = 0; i < path.length - 1; i++) {
      if (!node[path[i]] || typeof node[path[i]] !== 'object') node[path[i]] = {};
      node = node[path[i]];
    }
    if (value === undefined) delete node[path[path.length - 1]];
    else node[path[path.length - 1]] = value;
  }

  /** The payload the form says, or the first field it cannot read (with why). */
  function formValue() {
    var value = JSON.parse(JSON.stringify(form.base === undefined ? {} : form.base));
    for (var i = 0; i < form.bindings.length; i++) {
      var b = form.bindings[i];
      var raw = b.input.value;
      var v;
      if (b.input.setCustomValidity) b.input.setCustomValidity('');
      if (b.pattern && raw.trim() !== '' && !new RegExp(b.pattern, 'u').test(raw)) {
        var why = 'is not in the form wanted' + (b.about ? ' (' + b.about + ')' : '');
        b.input.setCustomValidity(why);
        b.input.setAttribute('aria-invalid', 'true');
        return { error: b, why: why };
      }
      b.input.removeAttribute('aria-invalid');
      if (b.kind === 'boolean') v = b.input.checked;
      else if (b.kind === 'const') v = b.value;
      else if (raw.trim() === '') v = undefined;
      else if (b.kind === 'number' || b.kind === 'integer') {
        v = Number(raw);
        if (!Number.isFinite(v) || (b.kind === 'integer' && !Number.isInteger(v))) return { error: b, why: 'is not a ' + (b.kind === 'integer' ? 'whole number' : 'number') };
      } else if (b.kind === 'lines') v = raw.split('\n').map(function (x) { return x.trim(); }).filter(Boolean);
      else if (b.kind === 'json') {
        try { v = JSON.parse(raw); } catch (err) { return { error: b, why: 'is not JSON: ' + err.message }; }
      } else v = raw;
      if (b.input.validity && !b.input.validity.valid) return { error: b, why: b.input.validationMessage || 'is not valid' };
      setAt(value, b.path, v);
    }
    return { value: value };
  }

  /** Every leaf that differs between two values: "path: before -> after". */
  function changes(before, after, path, out) {
    if (JSON.stringify(before) === JSON.stringify(after)) return out;
    var objects = before && after && typeof before === 'object' && typeof after === 'object' && !Array.isArray(before) && !Array.isArray(after);
    if (!objects) {
      out.push((path || '(the payload)') + ': ' + (before === undefined ? '(none)' : JSON.stringify(before)) + ' → ' + (after === undefined ? '(removed)' : JSON.stringify(after)));
      return out;
    }
    Object.keys(before).concat(Object.keys(after).filter(function (k) { return !(k in before); })).forEach(function (k) {
      changes(before[k], after[k], path ? path + '.' + k : k, out);
    });
    return out;
  }

  function syncForm() {
    var result = formValue();
    var box = $('edit-form-changes');
    if (result.error) {
      fill(box, el('p', { className: 'error-text', text: labelOf(result.error.input) + ' ' + result.why + '. The JSON below is not updated.' }));
      return result;
    }
    $('edited-payload').value = JSON.stringify(result.value, null, 2);
    var list = changes(form.base, result.value, '', []);
    fill(box, el('h5', { text: 'What changed' }), list.length ? el('ul', {}, list.map(function (c) { return el('li', { text: c }); })) : el('p', { className: 'hint', text: 'Nothing yet.' }));
    return result;
  }

  function labelOf(input) {
    var l = document.querySelector('label[for="' + input.id + '"]');
    return l ? l.textContent : 'A field';
  }

  function loadEditForm(d) {
    show($('edit-form-block'), false);
    fill($('edit-form'), '');
    fill($('edit-form-changes'), '');
    form = { bindings: [], base: undefined, schemaName: null };
    var untouched = $('edited-payload').value;
    return api('GET', '/deliveries/' + encodeURIComponent(d.id) + '/schema')
      .then(function (found) {
        if (state.open !== d.id || !state.payloads) return;
        form.base = state.payloads[found.from];
        form.schemaName = found.name;
        // Only when nobody has typed in the JSON box meanwhile.
        if ($('edited-payload').value === untouched) {
          Array.prototype.forEach.call(document.getElementsByName('edit-from'), function (r) { r.checked = r.value === found.from; });
          loadEditedPayload();
        }
        var root = el('div');
        field(found.schema, form.base, [], found.schema.title || found.name, true, root);
        fill($('edit-form'), root);
        fill($('edit-form-about'), 'A form for the payload as ' + (found.from === 'start' ? 'received' : 'it entered the node that failed') + ' (schema ' + found.name + (found.matches ? '' : ', which it does not match yet') + '). Each field is checked as you type; what changed is shown before anything is sent.');
        show($('edit-form-block'), true);
      })
      .catch(function () { /* no schema fits: the raw JSON box is the way */ });
  }

  function checkForm() {
    var result = syncForm();
    if (result.error || !form.schemaName) return;
    api('POST', '/schemas/' + encodeURIComponent(form.schemaName) + '/check', { value: result.value })
      .then(function (r) {
        append($('edit-form-changes'), r.valid
          ? el('p', { className: 'ok', text: 'It matches the schema ' + form.schemaName + '.' })
          : el('ul', { className: 'error-text' }, r.problems.map(function (p) { return el('li', { text: (p.instancePath || '(the payload)') + ' ' + p.message }); })));
      })
      .catch(reportFailure);
  }

  // ---- start -------------------------------------------------------------------------------

  function start() {
    buildStatusChoices();
    writeFilter({ status: FAILURES });
    state.filter = readFilter();
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('refresh').addEventListener('click', function () {
      loadAll().then(function () { if (state.open) openDelivery(state.open, { keepResult: true }); });
    });
    $('filter').addEventListener('submit', function (e) {
      e.preventDefault();
      state.filter = readFilter();
      state.offset = 0;
      loadDeliveries().catch(reportFailure);
    });
    $('filter-reset').addEventListener('click', function () { setFilter({ status: FAILURES }); });
    // Delivered, but a person may want to link the case: the crm-case node notes each such case in the delivery's reason.
    $('filter-cases-without-contact').addEventListener('click', function () { setFilter({ status: ['delivered'], target: 'crm', q: 'created without a contact' }); });
    $('page-previous').addEventListener('click', function () {
      state.offset = Math.max(0, state.offset - PAGE_SIZE);
      loadDeliveries().catch(reportFailure);
    });
    $('page-next').addEventListener('click', function () {
      if (state.offset + PAGE_SIZE < state.total) state.offset += PAGE_SIZE;
      loadDeliveries().catch(reportFailure);
    });
    $('replay-matching').addEventListener('click', replayMatching);
    $('detail-close').addEventListener('click', closeDetail);
    $('replay-failed-node').addEventListener('click', function () { act('failed-node'); });
    $('replay-start').addEventListener('click', function () { act('start'); });
    $('replay-edited').addEventListener('click', function () { act('edited'); });
    $('discard').addEventListener('click', function () { act('discard'); });
    Array.prototype.forEach.call(document.getElementsByName('edit-from'), function (r) { r.addEventListener('change', loadEditedPayload); });
    window.addEventListener('hashchange', openFromHash);
    $('person-search').addEventListener('submit', searchPeople);
    $('person-close').addEventListener('click', function () { show($('person'), false); });
    $('case-close').addEventListener('click', function () { show($('case'), false); });
    $('resolve-submit').addEventListener('click', resolveChoice);
    $('edit-form-check').addEventListener('click', checkForm);

    if (sessionStorage.getItem(TOKEN)) {
      showConsole();
      loadAll().then(openFromHash);
    } else {
      showLogin();
    }
  }

  start();
})();

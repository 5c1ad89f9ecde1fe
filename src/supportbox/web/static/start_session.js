/*
 * supportbox click-to-chat and full-client starter (spec 3.5).
 *
 *   <script src="https://support.example.com/api/start_session.js"></script>
 *   BG.setSite("support.example.com");
 *   BG.start(BG.START_TYPE.CHAT, {issue: {codeName: "printer"},
 *                                 customer: {name: "Jane"}});
 *
 * BG.start navigates to /api/start_session on the chosen site with the
 * equivalent parameters; CHAT (and the older BROWSER) add c2cjs=1.
 */
(function (global) {
  "use strict";

  var current = global.document && global.document.currentScript;
  var origin = current && current.src ? new URL(current.src) : global.location;
  var scheme = origin.protocol || "https:";
  var site = origin.host || "";

  var BG = global.BG || {};

  BG.START_TYPE = { CHAT: "chat", FULL: "full", BROWSER: "browser" };

  /* The host (and port) of the public site, without a scheme or path. */
  BG.setSite = function (host) {
    site = String(host).replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/")[0];
  };

  function add(params, name, value) {
    if (value !== undefined && value !== null && value !== "") {
      params.push(encodeURIComponent(name) + "=" + encodeURIComponent(String(value)));
    }
  }

  /* The /api/start_session URL that BG.start would open. */
  BG.url = function (startType, options) {
    var o = options || {};
    var params = [];
    var customer = o.customer || {};
    var custom = o["session.custom"] || o.sessionCustom || {};

    if (o.sessionKey !== undefined) {
      add(params, "short_key", o.sessionKey);
    } else if (o.issue) {
      add(params, "issue_menu", "1");
      add(params, "id", o.issue.id);
      add(params, "codeName", o.issue.codeName);
    } else if (o.rep) {
      add(params, "id", o.rep.id);
      add(params, "name", o.rep.name);
    }
    if (startType === BG.START_TYPE.CHAT || startType === BG.START_TYPE.BROWSER) {
      add(params, "c2cjs", "1");
    }
    add(params, "customer.name", customer.name);
    add(params, "customer.company", customer.company);
    add(params, "customer.company_code", customer.company_code || customer.companyCode);
    add(params, "customer.details", customer.details);
    add(params, "session.custom.external_key", o.externalKey);
    Object.keys(custom).forEach(function (code) {
      add(params, "session.custom." + code, custom[code]);
    });
    add(params, "locale", o.locale);

    return scheme + "//" + site + "/api/start_session?" + params.join("&");
  };

  BG.start = function (startType, options) {
    global.location.href = BG.url(startType, options);
  };

  global.BG = BG;
})(typeof window !== "undefined" ? window : this);

import { describe, expect, it } from 'vitest';
import { loggedPath, methodLabel, routeFamily, statusClass } from '../../src/server/forward-route.ts';

describe('forwarded request labels', () => {
  it('maps paths to a fixed set of route families', () => {
    expect(routeFamily('/web/session/authenticate')).toBe('/web/session');
    expect(routeFamily('/web/dataset/call_kw/res.partner/read?x=1')).toBe('/web/dataset');
    expect(routeFamily('/web/database/list')).toBe('/web/database');
    expect(routeFamily('/web/version')).toBe('/web/version');
    expect(routeFamily('/web/image/res.partner/3/avatar_128')).toBe('/web/content');
    expect(routeFamily('/web/login')).toBe('/web');
    expect(routeFamily('/web')).toBe('/web');
    expect(routeFamily('/json/2/res.partner/search_read')).toBe('/json/2');
    expect(routeFamily('/doc-bearer/res.partner.json')).toBe('/doc');
    expect(routeFamily('/websocket?version=19.0')).toBe('/websocket');
    expect(routeFamily('/web/static/src/img/logo.png')).toBe('static');
    expect(routeFamily('/sale/static/description/icon.png')).toBe('static');
    expect(routeFamily('/odoo/action-123')).toBe('/odoo');
    expect(routeFamily('/anything/else')).toBe('other');
    expect(routeFamily('/webfoo')).toBe('other');
  });

  it('bounds methods and statuses', () => {
    expect(methodLabel('GET')).toBe('GET');
    expect(methodLabel('PROPFIND')).toBe('other');
    expect(methodLabel(undefined)).toBe('other');
    expect(statusClass(200)).toBe('2xx');
    expect(statusClass(303)).toBe('3xx');
    expect(statusClass(undefined)).toBe('unreachable');
    expect(statusClass(999)).toBe('other');
  });

  it('logs paths without their query string, capped', () => {
    expect(loggedPath('/web/login?redirect=/odoo&token=x')).toBe('/web/login');
    expect(loggedPath('/' + 'a'.repeat(300))).toHaveLength(201);
  });
});

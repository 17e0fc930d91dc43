import { expect } from 'chai';
import { ConfigError, loadConfig } from '../config/env.js';

/* MCP_ALLOWED_ORIGINS and MCP_ALLOWED_HOSTS: who may call /mcp besides the issuer itself. */

describe('configuration: MCP_ALLOWED_ORIGINS and MCP_ALLOWED_HOSTS', () => {
  it('default to none (only the issuer\'s own origin and host)', () => {
    expect(loadConfig({}).mcp).to.deep.equal({ allowedOrigins: [], allowedHosts: [] });
  });

  it('read comma-separated lists, normalised as browsers and clients send them', () => {
    const config = loadConfig({
      MCP_ALLOWED_ORIGINS: 'https://inspector.example, http://localhost:6274/ ,HTTPS://App.Example:8443',
      MCP_ALLOWED_HOSTS: 'mcp.example.com, 10.0.0.5:3000,[::1]:3000, LocalHost:3000',
    });
    expect(config.mcp.allowedOrigins).to.deep.equal(['https://inspector.example', 'http://localhost:6274', 'https://app.example:8443']);
    expect(config.mcp.allowedHosts).to.deep.equal(['mcp.example.com', '10.0.0.5:3000', '[::1]:3000', 'localhost:3000']);
  });

  for (const value of ['https://app.example/path', 'app.example', 'ftp://app.example', 'https://app.example?x=1', 'https://u:p@app.example']) {
    it(`refuses an origin that is not scheme://host[:port]: ${value}`, () => {
      expect(() => loadConfig({ MCP_ALLOWED_ORIGINS: value })).to.throw(ConfigError, /MCP_ALLOWED_ORIGINS: entries must be origins/);
    });
  }

  for (const value of ['https://mcp.example.com', 'mcp.example.com/mcp', 'user@mcp.example.com', 'mcp example']) {
    it(`refuses a host that is not host[:port]: ${value}`, () => {
      expect(() => loadConfig({ MCP_ALLOWED_HOSTS: value })).to.throw(ConfigError, /MCP_ALLOWED_HOSTS: entries must be hosts/);
    });
  }
});

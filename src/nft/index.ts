export * from './types.js';
export { tableBatch, parseTable, parseRuleExpr, parseVipExpr, normalizeRules, type ParsedTable } from './json.js';
export { NftCli } from './cli.js';
export { FakeNft } from './fake.js';

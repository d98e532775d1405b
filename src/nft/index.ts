export * from './types.js';
export { snatBatch, parseTable, parseRuleExpr, normalizeRules, type ParsedTable } from './json.js';
export { NftCli } from './cli.js';
export { FakeNft } from './fake.js';

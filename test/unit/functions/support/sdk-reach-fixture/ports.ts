// fixture for the SDK reachability analysis (test/unit/functions/permissions.test.ts): a port...
export interface Store {
  load(id: string): Promise<unknown>;
  remove(id: string): Promise<void>;
}

/**
 * Store contract, group listing part: listGroups (the admin page's group list).
 * Registered through runStoreContract (tests/store_contract.ts).
 */
import assert from "node:assert/strict";
import { makeGroup, type MakeStore, storeTest } from "./_store_fixtures.ts";

export function runGroupListContract(name: string, makeStore: MakeStore): void {
  const test = storeTest(name, makeStore);

  test("groups: listGroups pages by groupId with member counts", async (s) => {
    assert.deepEqual(await s.listGroups("", 10), []);
    await makeGroup(s, "g2", ["a", "b", "c"]);
    await makeGroup(s, "g1", ["a"]);
    await makeGroup(s, "g3", []);
    await makeGroup(s, "g10", ["b", "c"]);
    const g1 = { groupId: "g1", name: "g1", avatar: "", createdAt: 1 };
    assert.deepEqual(await s.listGroups("", 2), [
      { ...g1, memberCount: 1 },
      { ...g1, groupId: "g10", name: "g10", memberCount: 2 },
    ]);
    const page = (after: string, limit: number) =>
      s.listGroups(after, limit).then((gs) => gs.map((g) => `${g.groupId}:${g.memberCount}`));
    assert.deepEqual(await page("g10", 10), ["g2:3", "g3:0"]);
    assert.deepEqual(await page("g3", 10), []);
    assert.deepEqual(await page("", 0), []);
    assert.deepEqual(await page("", -1), []);

    // Counts follow joins and leaves.
    await s.addMember("g3", "z", 200);
    assert.equal(await s.removeMember("g2", "b"), true);
    assert.deepEqual(await page("g1", 10), ["g10:2", "g2:2", "g3:1"]);

    // Ordered by code point (SQLite's UTF-8 byte order), not by UTF-16 unit; NUL survives.
    await makeGroup(s, "😀", ["a"]);
    await makeGroup(s, "\uff01", []);
    await makeGroup(s, "g\u0000", []);
    assert.deepEqual(await page("g3", 10), ["\uff01:0", "😀:1"]);
    assert.deepEqual((await s.listGroups("g", 1)).map((g) => g.groupId), ["g\u0000"]);

    // Returned records are copies.
    const [got] = await s.listGroups("", 1);
    got.name = "mutated";
    assert.equal((await s.getGroup("g1"))!.name, "g1");
  });
}

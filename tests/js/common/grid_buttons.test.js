import { test } from "node:test";
import assert from "node:assert/strict";
import { nextButton, register, rowButtons } from "../../../assets/common/grid_buttons.js";

// React.createElement's shape, enough to read what the renderer asks for.
const h = (type, props, ...children) => ({ type, props, children });

const BUTTONS = [
  { action: "reset", label: "Reset password", title: "Give SUP-5 a new password", ariaLabel: "Reset password of SUP-5",
    className: "btn ad-btn", disabled: false },
  { action: "delete", label: "Delete", title: "Delete SUP-5", ariaLabel: "Delete SUP-5",
    className: "btn ad-btn ad-btn-danger", disabled: true },
];

test("each button is a real button with its label, its row's name and its state", () => {
  const cell = rowButtons(h, { value: BUTTONS, setData() {} });
  assert.equal(cell.type, "div");
  assert.deepEqual(cell.children.map((b) => [b.type, b.props.type, b.children[0], b.props["aria-label"],
    b.props.disabled, b.props["data-action"]]), [
    ["button", "button", "Reset password", "Reset password of SUP-5", false, "reset"],
    ["button", "button", "Delete", "Delete SUP-5", true, "delete"],
  ]);
});

test("a press sends the button's action back through setData", () => {
  const sent = [];
  const cell = rowButtons(h, { value: BUTTONS, setData: (data) => sent.push(data) });
  cell.children[0].props.onClick();
  cell.children[0].props.onClick();
  assert.deepEqual(sent, [{ action: "reset" }, { action: "reset" }]);
});

test("a cell without buttons draws an empty box", () => {
  assert.deepEqual(rowButtons(h, { value: null, setData() {} }).children, []);
});

test("register keeps the renderers another page registered", () => {
  const other = () => null;
  const target = { dashAgGridComponentFunctions: { Other: other }, React: { createElement: h } };
  register(target);
  assert.equal(target.dashAgGridComponentFunctions.Other, other);
  const cell = target.dashAgGridComponentFunctions.RowButtons({ value: BUTTONS, setData() {} });
  assert.equal(cell.children.length, 2);
});

test("Tab goes to the next button, Shift+Tab to the previous, and out of the grid at either end", () => {
  const [a, b, c] = ["a", "b", "c"];
  assert.equal(nextButton([a, b, c], a, false), b);
  assert.equal(nextButton([a, b, c], b, true), a);
  assert.equal(nextButton([a, b, c], c, false), null);
  assert.equal(nextButton([a, b, c], a, true), null);
  assert.equal(nextButton([a, c], b, false), null, "a button no longer listed (disabled): the browser's way");
});

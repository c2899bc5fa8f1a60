// views/callui.js - placeholder until calls land.
import { h } from '../dom.js';
export function createCallUI() {
  return { el: h('div'), start() {}, hangupAll() {} };
}

// Prettier (npm run format): options chosen to change the fewest lines of the code as it was
// written. printWidth 140 reformatted 275 of src/'s 7,250 lines (100: 480, 120: 333, 130: 288).
/** @type {import('prettier').Config} */
export default {
  printWidth: 140,
  singleQuote: true,
  trailingComma: 'all',
};

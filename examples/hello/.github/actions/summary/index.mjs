// No dependencies: an action that reads its input and appends to the job summary.
import fs from "node:fs";
const answer = process.env.INPUT_ANSWER;
fs.appendFileSync(
  process.env.GITHUB_STEP_SUMMARY,
  `## hello\n\nThe answer is **${answer}**, computed in a throwaway sandbox on Node ${process.version}.\n`,
);
console.log(`::notice title=summary::wrote the job summary (answer ${answer})`);

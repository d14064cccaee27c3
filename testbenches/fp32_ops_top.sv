// Test top for the binary32 units: op 0 multiplies, 1 adds, 2 converts a (a signed integer) to float, 3 is e^a.
`default_nettype none
module fp32_ops_top (
    input  wire [1:0] op,
    input  wire [31:0] a,
    input  wire [31:0] b,
    output wire [31:0] y
);
    wire [31:0] product, sum, converted, exponential;
    fp32_mul u_mul (.a(a), .b(b), .y(product));
    fp32_add u_add (.a(a), .b(b), .y(sum));
    int_to_fp32 u_cvt (.a(a), .y(converted));
    fp32_exp u_exp (.a(a), .y(exponential));
    assign y = op == 2'd0 ? product : op == 2'd1 ? sum : op == 2'd2 ? converted : exponential;
endmodule
`default_nettype wire

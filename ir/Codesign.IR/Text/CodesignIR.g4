// The text form of a Codesign graph: MLIR-like, one statement per line.
//
//   graph @name attributes {key = value, ...} {
//     %tokens = input : tensor<[seq], i32>
//     %w = weight "model.norm.weight" : tensor<[256], f32>
//     %y = nn.rms_norm(%x, %w) {eps = 1E-05} : tensor<[seq, 256], f32>
//     return %y
//   }
grammar CodesignIR;

graphDef    : 'graph' '@' ident graphAttrs? '{' statement* returnStmt '}' EOF ;
graphAttrs  : 'attributes' attrDict ;
statement   : inputDecl | weightDecl | nodeDef ;
inputDecl   : VALUE_ID '=' 'input' ':' tensorType ;
weightDecl  : VALUE_ID '=' 'weight' STRING ':' tensorType ;
nodeDef     : VALUE_ID (',' VALUE_ID)* '=' ident '(' operands? ')' attrDict? ':' tensorType (',' tensorType)* ;
operands    : VALUE_ID (',' VALUE_ID)* ;
returnStmt  : 'return' VALUE_ID (',' VALUE_ID)* ;

attrDict    : '{' (attr (',' attr)*)? '}' ;
attr        : ident '=' attrValue ;
attrValue   : INT | FLOAT | STRING | TRUE | FALSE | dimList ;

tensorType  : 'tensor' '<' dimList ',' dtype '>' ;
dimList     : '[' (dim (',' dim)*)? ']' ;
dim         : INT | ident ;
dtype       : ident | 'quant' '<' ident (',' ident)* '>' | 'sparse' '<' ident ',' dtype '>' ;

// Keywords are reserved only where the grammar expects them; elsewhere they are plain identifiers.
ident       : IDENT | 'graph' | 'attributes' | 'input' | 'weight' | 'return' | 'tensor' | 'quant' | 'sparse' | TRUE | FALSE ;

TRUE        : 'true' ;
FALSE       : 'false' ;
VALUE_ID    : '%' [A-Za-z0-9_.\-]+ ;
IDENT       : [A-Za-z_] [A-Za-z0-9_.]* ;
FLOAT       : '-'? DIGIT+ ('.' DIGIT+ EXPONENT? | EXPONENT) ;
INT         : '-'? DIGIT+ ;
STRING      : '"' (~["\\\r\n] | '\\' ["\\nt])* '"' ;
LINE_COMMENT: '//' ~[\r\n]* -> skip ;
WS          : [ \t\r\n]+ -> skip ;

fragment DIGIT    : [0-9] ;
fragment EXPONENT : [eE] [+-]? DIGIT+ ;
